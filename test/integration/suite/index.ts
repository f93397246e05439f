/**
 * Extension tests inside a real VS Code (test/integration/runTests.mjs). They drive the extension through its
 * commands and its exported API with the real sidecar and the real stories260K model, and wait on real signals
 * (events, state), never on fixed sleeps.
 */
// One file per concern; imported in this order, their tests run in this order in one extension host.
import "./activation";
import "./chat";
import "./completion";
import "./search";
import "./actions";
import "./remoteEngine";
import "./agent";
import "./setup";
import "./nextEdit";
import { runAll } from "./harness";

/** Entry point called by VS Code's test runner. */
export function run(): Promise<void> {
  return runAll();
}
