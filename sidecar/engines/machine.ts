/**
 * What the planner knows of a machine: RAM (total, available now), the GPU node-llama-cpp would use and its memory,
 * CPU cores — and the budget the roles may use together.
 */
import os from "node:os";
import type { Llama } from "node-llama-cpp";
import type { MachineProfile } from "../../shared/protocol";

const GIB = 1024 ** 3;

/**
 * Probes this machine: `os.totalmem()` / `os.freemem()` (libuv reads Linux's MemAvailable) and, through the
 * embedded engine's backend, the GPU type and `getVramState()`. A `ramBytes` / `vramBytes` override describes
 * another machine instead (vramBytes 0: no GPU).
 * @param llama the backend; absent, no GPU is assumed (a probe must not fail the plan).
 */
export async function probeMachine(
  llama: Llama | undefined,
  override: { ramBytes?: number; vramBytes?: number } = {},
): Promise<MachineProfile> {
  const overridden = override.ramBytes !== undefined || override.vramBytes !== undefined;
  const ramTotal = override.ramBytes ?? os.totalmem();
  const ramFree = override.ramBytes ?? Math.min(os.freemem(), ramTotal);
  let gpu: MachineProfile["gpu"] = null;
  if (override.vramBytes !== undefined) {
    gpu =
      override.vramBytes > 0
        ? { type: "override", vramTotalBytes: override.vramBytes, vramFreeBytes: override.vramBytes }
        : null;
  } else if (llama && llama.gpu !== false) {
    try {
      const vram = await llama.getVramState();
      const names = await llama.getGpuDeviceNames().catch(() => [] as string[]);
      gpu = {
        type: llama.gpu,
        ...(names[0] ? { name: names[0] } : {}),
        vramTotalBytes: vram.total,
        vramFreeBytes: vram.free,
      };
    } catch {
      gpu = null;
    }
  }
  return {
    ramTotalBytes: ramTotal,
    ramFreeBytes: ramFree,
    gpu,
    cpuCores: os.availableParallelism?.() ?? os.cpus().length,
    overridden,
  };
}

/**
 * The memory the roles may use together. RAM: the total less a reserve for the OS, the editor and everything else
 * (the larger of 2.5 GiB and 20 % of the total), and never more than is available now on this machine. VRAM: the
 * GPU's free memory less 10 % (other programs, the driver's own buffers); 0 without a GPU. A Metal GPU shares the
 * RAM, so its budget is the RAM budget, not a second pool.
 */
export function memoryBudget(machine: MachineProfile): { ramBytes: number; vramBytes: number; reserveBytes: number } {
  const reserve = Math.max(2.5 * GIB, 0.2 * machine.ramTotalBytes);
  const ram = Math.max(
    0,
    Math.min(machine.ramTotalBytes - reserve, machine.overridden ? Infinity : machine.ramFreeBytes),
  );
  const gpu = machine.gpu;
  const vram = !gpu || gpu.type === "metal" ? 0 : Math.max(0, Math.floor(gpu.vramFreeBytes * 0.9));
  return { ramBytes: Math.floor(ram), vramBytes: vram, reserveBytes: Math.floor(reserve) };
}
