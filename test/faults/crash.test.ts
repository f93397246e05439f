import { readFileSync, writeFileSync } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ModelRoles } from "../../common/models/ModelRoles";
import { ErrorCodes } from "../../sidecar/protocol";
import { writeSyntheticFimModel } from "../fixtures/synthetic/syntheticModels";
import { errorOf, spawnSidecar, waitFor } from "../sidecar/helpers";

/** A SYNTHETIC FIM GGUF whose `llama.attention.head_count` is 0: plausible, and llama.cpp aborts on it. */
function writeHeadCountZero(file: string): void {
  writeSyntheticFimModel(file);
  const bytes = readFileSync(file);
  const key = Buffer.from("llama.attention.head_count");
  let at = bytes.indexOf(key);
  while (bytes.subarray(at + key.length, at + key.length + 3).toString() === "_kv") at = bytes.indexOf(key, at + 1);
  bytes.writeUInt32LE(0, at + key.length + 4); // after the u32 type tag comes the u32 value
  writeFileSync(file, bytes);
}

describe("fault suite: a model file that crashes llama.cpp", () => {
  let dir: string;
  let crashing: string;
  let good: string;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "hearth-faults-crash-"));
    crashing = path.join(dir, "head-count-zero.gguf");
    good = path.join(dir, "good.gguf");
    writeHeadCountZero(crashing);
    writeSyntheticFimModel(good);
  });
  afterAll(() => fs.rm(dir, { recursive: true, force: true }));

  it("is named as the cause, is not loaded again automatically, and the role works with another file", async () => {
    let restarts = 0;
    const { sidecar } = await spawnSidecar({ onRestarted: () => restarts++ });
    try {
      const roles = new ModelRoles(sidecar);
      const spec = { model: { uri: crashing }, contextSize: 256 };
      const first = await errorOf(roles.ensure("completion", spec));
      expect(first.code).toBe(ErrorCodes.ModelCorrupt);
      expect(first.message).toContain("head-count-zero.gguf crashed llama.cpp while loading");
      await waitFor(() => restarts === 1, 15_000, "the restart after the crash");
      const pid = sidecar.pid;
      // The next automatic load (a keystroke, a message) is refused without touching the sidecar.
      const again = await errorOf(roles.ensure("completion", spec));
      expect(again.message).toBe(first.message);
      expect(sidecar.pid).toBe(pid);
      await roles.restarted(() => undefined);
      expect(restarts).toBe(1);
      expect((await roles.ensure("completion", { model: { uri: good }, contextSize: 256 })).path).toBe(good);
      expect((await sidecar.request("runtime/stats", {})).models.map((m) => m.role)).toEqual(["completion"]);
    } finally {
      await sidecar.stop();
    }
  }, 60_000);
});
