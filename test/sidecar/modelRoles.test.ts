import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ModelRoles } from "../../common/models/ModelRoles";
import type { SidecarProcess } from "../../common/sidecar/SidecarProcess";
import { ErrorCodes, type ModelRole } from "../../shared/protocol";
import { writeSyntheticFimModel } from "../fixtures/synthetic/syntheticModels";
import { testModel } from "../testModels";
import { errorOf, spawnSidecar, waitFor } from "./helpers";

/** The roles the sidecar says it has a model for, from `runtime/stats`. */
async function loadedRoles(sidecar: SidecarProcess): Promise<ModelRole[]> {
  return (await sidecar.request("runtime/stats", {})).models.map((m) => m.role).sort();
}

describe("ModelRoles over the real sidecar", () => {
  let chatModel: string;
  let fimModel: string;
  let dir: string;
  beforeAll(async () => {
    chatModel = await testModel("stories260K");
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "hearth-roles-"));
    fimModel = path.join(dir, "synthetic-fim.gguf");
    writeSyntheticFimModel(fimModel);
  });
  afterAll(() => fs.rm(dir, { recursive: true, force: true }));

  it("loads a spec once for concurrent callers, replaces it with another, and says which model a role runs", async () => {
    const { sidecar } = await spawnSidecar();
    try {
      const roles = new ModelRoles(sidecar);
      const changes: ModelRole[] = [];
      roles.onChange((role) => changes.push(role));
      const spec = { model: { uri: chatModel }, contextSize: 256 };
      const first = roles.ensure("chat", spec);
      expect(roles.ensure("chat", { ...spec })).toBe(first);
      const info = await first;
      expect(await roles.ensure("chat", spec)).toBe(info);
      expect(roles.info("chat")?.name).toBe(path.basename(chatModel));
      const fim = await roles.ensure("chat", { model: { uri: fimModel }, contextSize: 256 });
      expect(fim.path).toBe(fimModel);
      expect(roles.info("chat")).toBe(fim);
      expect(changes).toEqual(["chat", "chat"]);
      await roles.unload("chat");
      expect(roles.info("chat")).toBeUndefined();
      expect(await loadedRoles(sidecar)).toEqual([]);
    } finally {
      await sidecar.stop();
    }
  });

  it("two roles on one GGUF share its weights: each works, and one unloading leaves the other working", async () => {
    const { sidecar } = await spawnSidecar();
    try {
      const infill = () =>
        sidecar.request("completion/infill", { prefix: "function f() {\n  return ", suffix: "\n}\n", maxTokens: 4 });
      const chat = () =>
        sidecar.request("chat/send", {
          streamId: `s${Math.random()}`,
          messages: [{ role: "user", content: "hi" }],
          params: { maxTokens: 4, temperature: 0 },
        });
      await Promise.all([
        sidecar.request("model/load", { role: "chat", model: { uri: fimModel }, contextSize: 256 }),
        sidecar.request("model/load", { role: "completion", model: { uri: fimModel }, contextSize: 256 }),
      ]);
      expect(await loadedRoles(sidecar)).toEqual(["chat", "completion"]);
      expect((await chat()).usage.completionTokens).toBeGreaterThan(0);
      expect((await infill()).usage.promptTokens).toBeGreaterThan(0);
      // The chat role lets go: the weights stay for completion; loading chat again takes them back.
      await sidecar.request("model/unload", { role: "chat" });
      expect((await infill()).usage.promptTokens).toBeGreaterThan(0);
      await sidecar.request("model/load", { role: "chat", model: { uri: fimModel }, contextSize: 256 });
      await sidecar.request("model/unload", { role: "completion" });
      expect((await chat()).usage.completionTokens).toBeGreaterThan(0);
      // A role replaced by another file lets go of the first; the first is loaded afresh when asked again.
      await sidecar.request("model/load", { role: "chat", model: { uri: chatModel }, contextSize: 256 });
      await sidecar.request("model/load", { role: "completion", model: { uri: fimModel }, contextSize: 256 });
      expect((await infill()).usage.promptTokens).toBeGreaterThan(0);
      expect((await chat()).usage.completionTokens).toBeGreaterThan(0);
    } finally {
      await sidecar.stop();
    }
  });

  it("a failed load leaves the role empty, and the next call tries again", async () => {
    const { sidecar } = await spawnSidecar();
    try {
      const roles = new ModelRoles(sidecar);
      const missing = path.join(dir, "missing.gguf");
      expect((await errorOf(roles.ensure("completion", { model: { uri: missing } }))).code).toBe(
        ErrorCodes.ModelNotFound,
      );
      expect(roles.info("completion")).toBeUndefined();
      await fs.copyFile(fimModel, missing);
      expect((await roles.ensure("completion", { model: { uri: missing } })).path).toBe(missing);
    } finally {
      await sidecar.stop();
    }
  });

  it("after a crash, restarted() loads every role's model again in the new process", async () => {
    let restarted = 0;
    const { sidecar } = await spawnSidecar({ onRestarted: () => restarted++ });
    try {
      const roles = new ModelRoles(sidecar);
      await roles.ensure("chat", { model: { uri: chatModel }, contextSize: 256 });
      await roles.ensure("completion", { model: { uri: fimModel }, contextSize: 256 });
      const firstPid = sidecar.pid!;
      process.kill(firstPid, "SIGKILL");
      await waitFor(() => restarted === 1, 15_000, "restart");
      expect(sidecar.pid).not.toBe(firstPid);
      expect(await loadedRoles(sidecar)).toEqual([]);
      const failures: ModelRole[] = [];
      await roles.restarted((role) => failures.push(role));
      expect(failures).toEqual([]);
      expect(await loadedRoles(sidecar)).toEqual(["chat", "completion"]);
      expect(roles.info("completion")?.path).toBe(fimModel);
    } finally {
      await sidecar.stop();
    }
  });
});
