/**
 * Entry point of the sidecar process. Started by the extension through vscode-languageclient (forked module,
 * `--node-ipc`) or by the CLI with `child_process.fork`. Talks JSON-RPC over the IPC channel only: stdout is
 * never written by the protocol, and stray console output from libraries is routed into the log.
 */
import { createConnection, IPCMessageReader, IPCMessageWriter, ProposedFeatures } from "vscode-languageserver/node";
import { watchParent } from "./parentWatchdog";
import { CheckedMessageReader } from "./rpcFrames";
import { startServer } from "./server";

// Over Node IPC (how the extension and the CLI start it) every frame is checked before vscode-jsonrpc sees it.
// Malformed frames are logged through the connection once it exists.
let warn = (m: string): void => void process.stderr.write(`${m}\n`);
const writer = process.send ? new IPCMessageWriter(process) : undefined;
const connection = writer
  ? createConnection(
      ProposedFeatures.all,
      new CheckedMessageReader(new IPCMessageReader(process), writer, (m) => warn(m)),
      writer,
    )
  : createConnection(ProposedFeatures.all);
warn = (m) => connection.console.warn(m);

// Libraries that print (node-llama-cpp's CLI helpers, warnings) must not touch stdout; send it to the log.
console.log = (...args: unknown[]) => connection.console.log(args.map(String).join(" "));
console.info = (...args: unknown[]) => connection.console.info(args.map(String).join(" "));
console.warn = (...args: unknown[]) => connection.console.warn(args.map(String).join(" "));
console.error = (...args: unknown[]) => connection.console.error(args.map(String).join(" "));
console.debug = (...args: unknown[]) => connection.console.debug(args.map(String).join(" "));

// If the client process goes away (IPC channel closed), nothing can talk to us any more: exit. The watchdog
// thread does the same when the main thread is too busy to see the channel close.
process.on("disconnect", () => process.exit(0));
watchParent();

// Ctrl-C in a terminal signals the whole process group, the sidecar with its client. The client decides when the
// sidecar ends (`shutdown` / `exit`, or its IPC channel closing): a client that drains its requests first
// (`hearth serve`, `hearth agent` stopping a step) keeps its engine until the last one is answered. Without a
// client (no IPC channel), the signals keep their default action.
if (process.send) {
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () =>
      connection.console.info(`${signal} received: the client ends the sidecar when it is done.`),
    );
  }
}

// A write past the file-size limit (ulimit -f) fails with EFBIG, which the index reports, instead of the
// signal's default action killing the process.
process.on("SIGXFSZ", () => connection.console.warn("A write went past the file-size limit (SIGXFSZ)."));

startServer(connection);
