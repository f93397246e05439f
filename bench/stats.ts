import { readFileSync } from "node:fs";

/** The p-th percentile (0–100, nearest rank) of a sample; the sample is not modified. */
export function pct(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}

/**
 * A memory figure of a process from Linux's `/proc/<pid>/status`, bytes: `VmRSS` (resident now) or `VmHWM` (its
 * peak). @returns 0 without a pid or where the field is missing.
 */
export function processMemory(pid: number | undefined, field: "VmRSS" | "VmHWM"): number {
  if (!pid) return 0;
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) * 1024 : 0;
}
