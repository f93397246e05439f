/**
 * A minimal test harness for the extension host: tests run in order, each failure is printed with its stack,
 * and `runAll` throws when anything failed, which makes VS Code exit with code 1. (Mocha would do; this keeps
 * the extension test bundle dependency-free.)
 */
import * as fs from "node:fs";
import * as path from "node:path";

type Test = { name: string; fn: () => Promise<void> | void; timeoutMs: number };
const tests: Test[] = [];

export function test(name: string, fn: Test["fn"], timeoutMs = 60_000): void {
  tests.push({ name, fn, timeoutMs });
}

export async function runAll(): Promise<void> {
  let passed = 0;
  const failed: string[] = [];
  // HEARTH_TEST_GREP=<regex> runs only the tests whose names match (for debugging one test); HEARTH_TEST_SKIP
  // leaves out those that match (the minimum VS Code's known hang, see runTests.mjs).
  const grep = process.env["HEARTH_TEST_GREP"] ? new RegExp(process.env["HEARTH_TEST_GREP"]) : undefined;
  const skip = process.env["HEARTH_TEST_SKIP"] ? new RegExp(process.env["HEARTH_TEST_SKIP"]) : undefined;
  for (const t of tests.filter((x) => (!grep || grep.test(x.name)) && !skip?.test(x.name))) {
    const started = Date.now();
    try {
      await Promise.race([
        t.fn(),
        new Promise((_, reject) =>
          setTimeout(() => reject(new Error(`timed out after ${t.timeoutMs} ms`)), t.timeoutMs),
        ),
      ]);
      passed++;
      console.log(`  ✓ ${t.name} (${Date.now() - started} ms)`);
    } catch (error) {
      failed.push(t.name);
      console.log(`  ✗ ${t.name}\n    ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    }
  }
  console.log(`extension tests: ${passed} passed, ${failed.length} failed`);
  const dir = process.env["HEARTH_TEST_RESULTS_DIR"];
  if (dir) {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(
      path.join(dir, process.env["HEARTH_TEST_RESULTS_FILE"] ?? "extension.json"),
      JSON.stringify({ passed, failed: failed.length, failures: failed }),
    );
  }
  if (failed.length > 0) throw new Error(`${failed.length} extension test(s) failed: ${failed.join("; ")}`);
}

/** Resolve when `predicate` holds (polled every 25 ms); reject after `timeoutMs` naming `what`. */
export async function waitFor(predicate: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
