import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SidecarProcess } from "../../common/sidecar/SidecarProcess";
import { ErrorCodes, type ModelProgressParams } from "../../shared/protocol";
import { testModel } from "../testModels";
import { errorOf, spawnSidecar } from "./helpers";

/*
 * The real download path (node-llama-cpp's resolveModelFile inside the real sidecar) against a GGUF served from
 * a local HTTP server on 127.0.0.1. The server can cut the body short a set number of times per path.
 */
let server: http.Server;
let base: string;
let gguf: Buffer;
let sha256: string;
const requests: { url: string; range?: string }[] = [];
const truncateBudget = new Map<string, number>();

beforeAll(async () => {
  gguf = await fs.readFile(await testModel("stories260K"));
  sha256 = createHash("sha256").update(gguf).digest("hex");
  server = http.createServer((req, res) => {
    const url = req.url ?? "/";
    requests.push({ url, range: req.headers.range });
    if (url.startsWith("/missing/")) {
      res.writeHead(404).end("not found");
      return;
    }
    const headers = { "content-type": "application/octet-stream", "content-length": String(gguf.length) };
    if (req.method === "HEAD") {
      res.writeHead(200, headers).end();
      return;
    }
    const key = url.split("?")[0]!;
    const budget = truncateBudget.get(key) ?? 0;
    if (budget > 0 || url.startsWith("/always-truncated/")) {
      truncateBudget.set(key, budget - 1);
      // Promise the whole file, send half, then drop the connection.
      res.writeHead(200, headers);
      res.write(gguf.subarray(0, gguf.length / 2), () => res.destroy());
      return;
    }
    res.writeHead(200, headers).end(gguf);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function withSidecar<T>(fn: (s: SidecarProcess, modelsDir: string) => Promise<T>): Promise<T> {
  // A short stall timeout so a server that keeps cutting the body short fails within seconds.
  const { sidecar, modelsDir } = await spawnSidecar({}, { downloadStallTimeoutMs: 1500 });
  try {
    return await fn(sidecar, modelsDir);
  } finally {
    await sidecar.stop();
  }
}

describe("model download over loopback HTTP", () => {
  it("downloads with progress events, verifies the sha256, loads, and reuses the file next time", async () => {
    await withSidecar(async (sidecar, modelsDir) => {
      const progress: ModelProgressParams[] = [];
      sidecar.onNotification("model/progress", (p) => progress.push(p));
      const uri = `${base}/ok/stories.gguf`;
      const info = await sidecar.request("model/load", { role: "chat", model: { uri, sha256 }, progressId: "p1" });
      expect(info.path).toBe(path.join(modelsDir, "stories.gguf"));
      expect((await fs.readFile(info.path)).equals(gguf)).toBe(true);
      const downloads = progress.filter((p) => p.phase === "download");
      expect(downloads.length).toBeGreaterThan(0);
      expect(downloads.every((p) => p.progressId === "p1" && p.totalBytes === gguf.length)).toBe(true);
      expect(downloads.at(-1)?.fraction).toBe(1);
      expect(progress.some((p) => p.phase === "load")).toBe(true);
      // Loading again finds the file on disk and does not download it again.
      const { mtimeMs } = await fs.stat(info.path);
      const progressBefore = progress.length;
      await sidecar.request("model/load", { role: "chat", model: { uri, sha256 }, progressId: "p2" });
      expect((await fs.stat(info.path)).mtimeMs).toBe(mtimeMs);
      expect(progress.slice(progressBefore).filter((p) => p.phase === "download")).toEqual([]);
    });
  });

  it("recovers from a body cut short by a dropped connection", async () => {
    truncateBudget.set("/flaky/stories.gguf", 1);
    await withSidecar(async (sidecar) => {
      const info = await sidecar.request("model/load", {
        role: "chat",
        model: { uri: `${base}/flaky/stories.gguf`, sha256 },
      });
      expect((await fs.readFile(info.path)).equals(gguf)).toBe(true);
      expect(requests.filter((r) => r.url.startsWith("/flaky/")).length).toBeGreaterThanOrEqual(2);
    });
  });

  it("rejects a body that stays truncated with DownloadFailed and leaves no partial file", async () => {
    await withSidecar(async (sidecar, modelsDir) => {
      const error = await errorOf(
        sidecar.request("model/load", { role: "chat", model: { uri: `${base}/always-truncated/stories.gguf` } }),
      );
      expect(error.code).toBe(ErrorCodes.DownloadFailed);
      expect(error.message).toMatch(/after 3 attempts/);
      expect((await fs.readdir(modelsDir)).filter((f) => f.startsWith("stories"))).toEqual([]);
    });
  });

  it("rejects a bad checksum and deletes the file", async () => {
    await withSidecar(async (sidecar, modelsDir) => {
      const error = await errorOf(
        sidecar.request("model/load", {
          role: "chat",
          model: { uri: `${base}/pinned/stories.gguf`, sha256: "0".repeat(64) },
        }),
      );
      expect(error.code).toBe(ErrorCodes.ChecksumMismatch);
      expect(error.message).toContain(sha256);
      expect(await fs.readdir(modelsDir)).toEqual([]);
    });
  });

  it("reports an HTTP 404 as DownloadFailed", async () => {
    await withSidecar(async (sidecar) => {
      const error = await errorOf(
        sidecar.request("model/load", { role: "chat", model: { uri: `${base}/missing/x.gguf` } }),
      );
      expect(error.code).toBe(ErrorCodes.DownloadFailed);
    });
  });
});
