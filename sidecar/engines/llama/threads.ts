import os from "node:os";

/**
 * Default CPU thread count for generation.
 *
 * llama.cpp's decode is memory-bound and its threads spin-wait on each other; on small machines the second
 * thread competes with the editor, the extension host and the OS. Measured on a 2-core VM (stories260K, see
 * `npm run bench`): 1 thread decoded many times faster than 2. So: 1 thread up to 2 cores, then half the
 * cores (physical cores, roughly), capped at 8 where more threads stop helping decode speed.
 *
 * @param cores logical CPU count (default `os.availableParallelism()`).
 */
export function defaultThreads(cores: number = os.availableParallelism()): number {
  if (cores <= 2) return 1;
  return Math.min(8, Math.floor(cores / 2));
}
