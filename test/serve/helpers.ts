import { spawn, type ChildProcess } from "node:child_process";
import { CLI_PATH } from "../testModels";

/* Shared by the `hearth serve` suites: the real CLI as a child process, and a JSON POST that keeps the raw text. */

/** A `hearth serve` process; resolves once it says it is ready, with its base URL. */
export async function serve(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  options: { detached?: boolean } = {},
): Promise<{ url: string; child: ChildProcess; stderr: () => string }> {
  const child = spawn(process.execPath, [CLI_PATH, "serve", "--port", "0", "--threads", "1", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env },
    // Its own process group, as a terminal's foreground job: a signal to the group reaches the sidecar too.
    ...(options.detached ? { detached: true } : {}),
  });
  let stderr = "";
  child.stderr!.on("data", (d) => (stderr += d));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`hearth serve did not get ready:\n${stderr}`)), 60_000);
    child.stderr!.on("data", () => {
      const m = /ready at (http:\/\/\S+)/.exec(stderr);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`hearth serve exited with ${code}:\n${stderr}`));
    });
  });
  return { url, child, stderr: () => stderr };
}

/** Stop a server with SIGTERM and wait for it to end. @returns its exit code. */
export function stop(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    child.once("exit", (code) => resolve(code));
    child.kill("SIGTERM");
  });
}

export async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}
