/** Characters per token assumed where a remote engine does not count for us (inputs are cut to fit by this). */
export const CHARS_PER_TOKEN = 2;

/** A duration rounded to 0.1 ms, for timings. */
export function round(n: number): number {
  return Math.round(n * 100) / 100;
}
