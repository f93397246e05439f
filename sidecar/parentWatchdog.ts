import { Worker } from "node:worker_threads";

/**
 * The watchdog's code, run in a worker thread so it ticks even while the main thread is busy (a long
 * tokenisation, a synchronous parse): once a second it checks that the parent is still this process's parent
 * and alive, and when it is not, ends the process. A sidecar whose client died must not go on burning CPU.
 */
export const WATCHDOG_SOURCE = `
const { workerData } = require("node:worker_threads");
const { parentPid, intervalMs } = workerData;
setInterval(() => {
  let alive = process.ppid === parentPid;
  if (alive) {
    try { process.kill(parentPid, 0); } catch (e) { alive = e.code === "EPERM"; }
  }
  if (!alive) process.kill(process.pid, "SIGKILL");
}, intervalMs);
`;

/**
 * Start the parent watchdog (see {@link WATCHDOG_SOURCE}); the IPC `disconnect` event covers an idle sidecar,
 * this covers a busy one. The worker is unref'd: it never keeps the process alive by itself.
 * @param parentPid the client's pid (`process.ppid` at start-up).
 * @param intervalMs how often to check, ms.
 */
export function watchParent(parentPid: number = process.ppid, intervalMs = 1000): void {
  if (parentPid <= 1) return; // already orphaned or started by init: nothing to watch
  const worker = new Worker(WATCHDOG_SOURCE, { eval: true, workerData: { parentPid, intervalMs } });
  worker.unref();
}
