import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SidecarProcess } from "../../common/sidecar/SidecarProcess";
import { labModel, testModel } from "../testModels";
import { spawnSidecar } from "./helpers";

/*
 * Issue 30 (first run), item 5: GGUFs the user already has are sorted into roles from their headers before anything
 * is downloaded. The real sidecar's `model/list` over a folder holding our real fixtures: the lab's FIM code model,
 * embedding model and reranker (trained here), and stories260K (a base chat model).
 */
describe("model/list sorts the GGUFs it finds into roles by their headers", () => {
  let sidecar: SidecarProcess;
  let folder: string;

  beforeAll(async () => {
    folder = await fs.mkdtemp(path.join(os.tmpdir(), "hearth-roles-"));
    await fs.copyFile(labModel("code"), path.join(folder, "code.gguf"));
    await fs.copyFile(labModel("embedding"), path.join(folder, "embedding.gguf"));
    await fs.copyFile(labModel("reranker"), path.join(folder, "reranker.gguf"));
    await fs.copyFile(await testModel("stories260K"), path.join(folder, "stories.gguf"));
    await fs.writeFile(path.join(folder, "broken.gguf"), "GGUF but not really");
    ({ sidecar } = await spawnSidecar());
  });
  afterAll(async () => {
    await sidecar?.stop();
    await fs.rm(folder, { recursive: true, force: true });
  });

  it("FIM tokens → chat and completion; pooling → embedding; a rank head → rerank; a bad header → no roles", async () => {
    const { models } = await sidecar.request("model/list", { folders: [folder], home: folder });
    // Listed, every one of them; the file whose header cannot be read has no roles rather than failing the list.
    expect(models.map((m) => [m.name, m.roles ?? "none"])).toEqual([
      ["broken.gguf", "none"],
      ["code.gguf", ["chat", "completion"]],
      ["embedding.gguf", ["embedding"]],
      ["reranker.gguf", ["rerank"]],
      ["stories.gguf", ["chat"]],
    ]);
  });
});
