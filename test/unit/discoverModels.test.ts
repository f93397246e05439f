import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { discoverModels } from "../../sidecar/models/discoverModels";

async function write(file: string, content: string | Buffer = "GGUF....") {
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, content);
}

describe("discoverModels", () => {
  it("finds GGUFs in a folder, Ollama's store, LM Studio and the Hugging Face cache", async () => {
    const home = await fs.mkdtemp(path.join(os.tmpdir(), "hearth-home-"));
    const folder = path.join(home, "my-models");
    await write(path.join(folder, "sub", "a.gguf"));
    await write(path.join(folder, "notes.txt"), "not a model");
    await write(path.join(folder, "big-00001-of-00002.gguf"));
    await write(path.join(folder, "big-00002-of-00002.gguf"));
    // Ollama: manifest → blob
    const digest = "sha256:" + "ab".repeat(32);
    await write(path.join(home, ".ollama/models/blobs", digest.replace(":", "-")), "GGUF blob");
    await write(
      path.join(home, ".ollama/models/manifests/registry.ollama.ai/library/llama3.2/1b"),
      JSON.stringify({ layers: [{ mediaType: "application/vnd.ollama.image.model", digest }] }),
    );
    await write(path.join(home, ".ollama/models/manifests/registry.ollama.ai/library/broken/latest"), "{not json");
    await write(path.join(home, ".lmstudio/models/pub/repo/lm.gguf"));
    await write(path.join(home, ".cache/huggingface/hub/models--org--name/snapshots/rev1/hf.Q4.gguf"));

    const models = await discoverModels({ home, folders: [folder, path.join(home, "missing")] });
    const byName = Object.fromEntries(models.map((m) => [m.name, m]));
    expect(Object.keys(byName).sort()).toEqual([
      "a.gguf",
      "big-00001-of-00002.gguf",
      "llama3.2:1b",
      "lm.gguf",
      "org/name/hf.Q4.gguf",
    ]);
    expect(byName["llama3.2:1b"]).toMatchObject({ source: "ollama", sizeBytes: 9 });
    expect(byName["llama3.2:1b"]?.path).toMatch(/blobs\/sha256-abab/);
    expect(byName["lm.gguf"]?.source).toBe("lmstudio");
    expect(byName["org/name/hf.Q4.gguf"]?.source).toBe("huggingface");
  });
  it("returns an empty list for an empty home", async () => {
    const home = await fs.mkdtemp(path.join(os.tmpdir(), "hearth-empty-"));
    expect(await discoverModels({ home })).toEqual([]);
  });
});
