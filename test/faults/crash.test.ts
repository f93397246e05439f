import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ModelRoles } from "../../common/models/ModelRoles";
import { ErrorCodes } from "../../shared/protocol";
import { u32 } from "../fixtures/synthetic/ggufWriter";
import { writeSyntheticFimModel } from "../fixtures/synthetic/syntheticModels";
import { errorOf, spawnSidecar, waitFor } from "../sidecar/helpers";

/**
 * A SYNTHETIC FIM GGUF that claims 100,000 experts: plausible, past Hearth's checks, and llama.cpp aborts on it
 * (its expert count is asserted, not checked). It stands for whatever no list of checks foresaw.
 */
function writeCrashingModel(file: string): void {
  writeSyntheticFimModel(file, 1, "random", {
    metadata: { "llama.expert_count": u32(100_000), "llama.expert_used_count": u32(2) },
  });
}

describe("fault suite: a model file that crashes llama.cpp", () => {
  let dir: string;
  let crashing: string;
  let good: string;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "hearth-faults-crash-"));
    crashing = path.join(dir, "many-experts.gguf");
    good = path.join(dir, "good.gguf");
    writeCrashingModel(crashing);
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
      expect(first.message).toContain("many-experts.gguf crashed llama.cpp while loading");
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
