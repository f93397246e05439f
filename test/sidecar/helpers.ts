import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { HearthError } from "../../shared/errors";
import { SidecarProcess, type SidecarProcessOptions } from "../../common/sidecar/SidecarProcess";
import type { SidecarInitOptions } from "../../shared/protocol";
import { SIDECAR_PATH } from "../testModels";

/** Log lines the sidecar sent, for assertions and for debugging failures. */
export type LogLine = { type: number; message: string };

/**
 * Spawn the real sidecar bundle (dist/sidecar.mjs) over IPC with one thread on the CPU backend, as the
 * extension and the CLI do. The returned `logs` array collects its log lines.
 */
export async function spawnSidecar(
  overrides: Partial<SidecarProcessOptions> = {},
  init: Partial<SidecarInitOptions> = {},
): Promise<{ sidecar: SidecarProcess; logs: LogLine[]; modelsDir: string }> {
  const modelsDir = await fs.mkdtemp(path.join(os.tmpdir(), "hearth-models-"));
  const logs: LogLine[] = [];
  const sidecar = new SidecarProcess({
    sidecarPath: SIDECAR_PATH,
    init: { modelsDir, threads: 1, gpu: "off", allowDownload: true, ...init },
    onLog: (type, message) => logs.push({ type, message }),
    ...overrides,
  });
  await sidecar.start();
  return { sidecar, logs, modelsDir };
}

/** Resolve when `predicate` holds, polling every 20 ms; reject after `timeoutMs`. */
export async function waitFor(predicate: () => boolean, timeoutMs = 10_000, what = "condition"): Promise<void> {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > timeoutMs) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The HearthError a request failed with; fails the test when it succeeded. */
export async function errorOf(promise: Promise<unknown>): Promise<HearthError> {
  try {
    await promise;
  } catch (e) {
    return HearthError.from(e);
  }
  throw new Error("expected the request to fail");
}
