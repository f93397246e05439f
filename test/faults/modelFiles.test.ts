import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SidecarProcess } from "../../common/sidecar/SidecarProcess";
import { ErrorCodes } from "../../shared/protocol";
import { u32, type GgufValue } from "../fixtures/synthetic/ggufWriter";
import { writeSyntheticFimModel } from "../fixtures/synthetic/syntheticModels";
import { testModel } from "../testModels";
import { errorOf, spawnSidecar } from "../sidecar/helpers";

/*
 * Plausible but wrong model files and paths through the real sidecar. Each SYNTHETIC GGUF below (the FIM llama
 * of test/fixtures/synthetic with one value changed) made llama.cpp abort the sidecar before its header was
 * checked; each path gave "Model file not found" whatever it was.
 */
describe("fault suite: plausible-but-wrong hyperparameters are refused before llama.cpp sees them", () => {
  let sidecar: SidecarProcess;
  let dir: string;
  beforeAll(async () => {
    ({ sidecar } = await spawnSidecar());
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "hearth-faults-hparams-"));
  });
  afterAll(async () => {
    await sidecar.stop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  const cases: Array<[string, { metadata?: Record<string, GgufValue>; duplicateToken?: boolean }, RegExp]> = [
    [
      "block_count 100000",
      { metadata: { "llama.block_count": u32(100_000) } },
      /block_count is 100000, but the file holds 21 tensors/,
    ],
    ["head_count 0", { metadata: { "llama.attention.head_count": u32(0) } }, /attention\.head_count is 0/],
    ["head_count_kv 0", { metadata: { "llama.attention.head_count_kv": u32(0) } }, /head_count_kv is 0/],
    [
      "head_count_kv above head_count",
      { metadata: { "llama.attention.head_count_kv": u32(64) } },
      /head_count_kv \(64\) is larger/,
    ],
    ["a duplicate vocabulary token", { duplicateToken: true }, /lists the token "}" twice \(ids 356 and 357\)/],
    ["context_length 0", { metadata: { "llama.context_length": u32(0) } }, /context_length is 0/],
    ["embedding_length 0", { metadata: { "llama.embedding_length": u32(0) } }, /embedding_length is 0/],
  ];
  it.each(cases)(
    "%s: ModelCorrupt naming the value, and the sidecar never went down",
    async (label, overrides, reason) => {
      const file = path.join(dir, `${label.replace(/\W+/g, "-")}.gguf`);
      writeSyntheticFimModel(file, 1, "random", overrides);
      const pid = sidecar.pid;
      const error = await errorOf(
        sidecar.request("model/load", { role: "completion", model: { uri: file }, contextSize: 256 }),
      );
      expect(error.code).toBe(ErrorCodes.ModelCorrupt);
      expect(error.message).toMatch(reason);
      expect(error.hint).toMatch(/header is wrong, not truncated/);
      expect(sidecar.pid).toBe(pid);
    },
  );

  it("the unaltered synthetic and the real stories260K model pass the same checks", async () => {
    const file = path.join(dir, "good.gguf");
    writeSyntheticFimModel(file);
    expect(
      (await sidecar.request("model/load", { role: "completion", model: { uri: file }, contextSize: 256 })).name,
    ).toBe("good.gguf");
    const stories = await testModel("stories260K");
    expect(
      (await sidecar.request("model/load", { role: "chat", model: { uri: stories }, contextSize: 256 })).name,
    ).toBe("stories260K.gguf");
  });

  it("an architecture llama.cpp does not know is Unsupported, naming it (it said 'truncated, download again')", async () => {
    const bytes = Buffer.from(await fs.readFile(await testModel("stories260K")));
    const at = bytes.indexOf("llama", bytes.indexOf("general.architecture"));
    bytes.write("zzzzz", at, "latin1");
    const file = path.join(dir, "unknown-arch.gguf");
    await fs.writeFile(file, bytes);
    const error = await errorOf(
      sidecar.request("model/load", { role: "chat", model: { uri: file }, contextSize: 256 }),
    );
    expect(error.code).toBe(ErrorCodes.Unsupported);
    expect(error.message).toMatch(/is a 'zzzzz' model, an architecture the llama\.cpp in this Hearth does not support/);
  });
});

describe("fault suite: a model path that is not a file says what it is", () => {
  let sidecar: SidecarProcess;
  let dir: string;
  beforeAll(async () => {
    ({ sidecar } = await spawnSidecar());
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "hearth-faults-paths-"));
    await fs.mkdir(path.join(dir, "models"));
    await fs.writeFile(path.join(dir, "models", "a.gguf"), "x");
    await fs.mkdir(path.join(dir, "empty.gguf"));
    await fs.symlink("loop-b.gguf", path.join(dir, "loop-a.gguf"));
    await fs.symlink("loop-a.gguf", path.join(dir, "loop-b.gguf"));
    await fs.symlink("/nonexistent/model.gguf", path.join(dir, "dangling.gguf"));
  });
  afterAll(async () => {
    await sidecar.stop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it.each([
    ["a folder with GGUF files in it", "models", /is a folder, not a model file/, /a\.gguf/],
    ["a folder without any", "empty.gguf", /is a folder, not a model file/, /holds no \.gguf file/],
    ["a loop of links", "loop-a.gguf", /is a loop of symbolic links/, /model path/],
    [
      "a link to nothing",
      "dangling.gguf",
      /is a symbolic link to \/nonexistent\/model\.gguf, which does not exist/,
      /model path/,
    ],
  ])("%s: ModelNotFound that says so", async (_label, name, message, hint) => {
    const error = await errorOf(sidecar.request("model/load", { role: "chat", model: { uri: path.join(dir, name) } }));
    expect(error.code).toBe(ErrorCodes.ModelNotFound);
    expect(error.message).toMatch(message);
    expect(error.hint).toMatch(hint);
    expect(error.message).not.toMatch(/RangeError|BigInt|\n\s+at /);
  });
});
