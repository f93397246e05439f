import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import path from "node:path";
import { REPO_ROOT } from "../testModels";

let binary: string | undefined;

/**
 * The llama-server binary the tests use: `scripts/build-llama-server.sh` finds it ($HEARTH_LLAMA_SERVER,
 * ../shared/bin, the cache) or builds it from the llama.cpp source node-llama-cpp ships. Never skipped: a
 * missing one fails with the script's message.
 */
export function llamaServerBinary(): string {
  binary ??= execFileSync("bash", [path.join(REPO_ROOT, "scripts", "build-llama-server.sh")], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  }).trim();
  return binary;
}

/** A free loopback port (listen on 0, read it, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

export interface RunningLlamaServer {
  url: string;
  process: ChildProcess;
  /** Its stderr so far (for failure messages). */
  log(): string;
  stop(): Promise<void>;
}

/**
 * Start a real llama-server on a free loopback port with one thread and `args` (model, context, flags), and
 * wait until `GET /health` says ok (at most `timeoutMs`).
 */
export async function startLlamaServer(args: string[], timeoutMs = 60_000): Promise<RunningLlamaServer> {
  const port = await freePort();
  const child = spawn(llamaServerBinary(), ["--host", "127.0.0.1", "--port", String(port), "-t", "1", ...args], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let log = "";
  child.stderr?.on("data", (d: Buffer) => (log = (log + d.toString()).slice(-20_000)));
  let exited = false;
  child.once("exit", () => (exited = true));
  const url = `http://127.0.0.1:${port}`;
  const started = Date.now();
  for (;;) {
    if (exited) throw new Error(`llama-server exited before it was ready:\n${log.slice(-2000)}`);
    if (Date.now() - started > timeoutMs) {
      child.kill("SIGKILL");
      throw new Error(`llama-server was not healthy within ${timeoutMs} ms:\n${log.slice(-2000)}`);
    }
    const ok = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) })
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    process: child,
    log: () => log,
    stop: async () => {
      if (exited) return;
      const gone = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await gone;
      clearTimeout(timer);
    },
  };
}
