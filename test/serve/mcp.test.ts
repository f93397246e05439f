import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { optionalArgsSchema } from "../../common/tools/definition";
import { SEARCH_CODEBASE } from "../../common/tools/readTools";
import { CLI_PATH, labModel } from "../testModels";

/*
 * `hearth mcp` through the official MCP SDK client over stdio, on a real workspace folder and a real index on a
 * temp dir, with the lab embedding model (hybrid search).
 */

type TextResult = { content: Array<{ type: string; text: string }>; isError?: boolean; structuredContent?: unknown };

describe("hearth mcp: the code index as an MCP server over stdio", () => {
  let work: string;
  let client: Client;
  let transport: StdioClientTransport;
  let stderr = "";

  beforeAll(async () => {
    work = await fs.mkdtemp(path.join(os.tmpdir(), "hearth-mcp-"));
    const ws = path.join(work, "ws");
    await fs.mkdir(path.join(ws, "src"), { recursive: true });
    await fs.writeFile(
      path.join(ws, "src", "config.ts"),
      "export function parseConfigFile(text: string) {\n  return JSON.parse(text);\n}\n",
    );
    await fs.writeFile(
      path.join(ws, "src", "widget.ts"),
      "export function renderWidget(width: number) {\n  return `<div>${width}</div>`;\n}\n",
    );
    await fs.writeFile(path.join(work, "secret.txt"), "do not read\n");
    transport = new StdioClientTransport({
      command: process.execPath,
      args: [
        CLI_PATH,
        "mcp",
        ws,
        "--index-dir",
        path.join(work, "index"),
        "--embedding-model",
        labModel("embedding"),
        "--threads",
        "1",
      ],
      stderr: "pipe",
    });
    transport.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
    client = new Client({ name: "hearth-test", version: "1.0.0" });
    await client.connect(transport);
  }, 60_000);

  afterAll(async () => {
    await client?.close();
    await fs.rm(work, { recursive: true, force: true });
  });

  it("lists its tools with the input schemas of their one definition", async () => {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual([
      "grep",
      "index_status",
      "list_files",
      "read_file",
      "reindex",
      "search_codebase",
    ]);
    const search = tools.find((t) => t.name === "search_codebase")!;
    expect(search.inputSchema).toEqual(optionalArgsSchema(SEARCH_CODEBASE.parameters));
    expect(search.inputSchema.required).toEqual(["query"]);
    expect(search.annotations?.readOnlyHint).toBe(true);
  });

  it("search_codebase builds the index on first use, telling its progress, and finds the function", async () => {
    const progress: Array<{ progress: number; total?: number; message?: string }> = [];
    const r = (await client.callTool(
      { name: "search_codebase", arguments: { query: "parse the config file", top_k: 2 } },
      undefined,
      // Issue 31, m11: progress notifications while the index builds (they also reset the client's timeout).
      { onprogress: (p) => progress.push(p), resetTimeoutOnProgress: true },
    )) as TextResult;
    expect(r.isError).toBeFalsy();
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.at(-1)).toMatchObject({
      total: 2,
      message: expect.stringMatching(/^indexing .*: \w+, \d+\/2 files$/),
    });
    const hits = (r.structuredContent as { hits: Array<{ path: string; startLine: number; text: string }> }).hits;
    expect(hits[0]!.path).toBe("src/config.ts");
    expect(hits[0]!.text).toContain("parseConfigFile");
    expect(r.content[0]!.text).toMatch(/^src\/config\.ts:1-3/);
    expect(stderr).toMatch(/indexed 2 files/);
    const status = (await client.callTool({ name: "index_status", arguments: {} })) as TextResult;
    expect(status.structuredContent).toMatchObject({ exists: true, files: 2 });
  });

  it("read_file returns the numbered lines; a path outside the folder or a secrets file is refused", async () => {
    const r = (await client.callTool({
      name: "read_file",
      arguments: { path: "src/widget.ts", start_line: 1, end_line: 2 },
    })) as TextResult;
    expect(r.content[0]!.text).toBe(
      "1: export function renderWidget(width: number) {\n2:   return `<div>${width}</div>`;",
    );
    expect(r.structuredContent).toMatchObject({ path: "src/widget.ts", startLine: 1, endLine: 2 });
    await fs.writeFile(path.join(work, "ws", ".env"), "API_KEY=secret\n");
    const secret = (await client.callTool({ name: "read_file", arguments: { path: ".env" } })) as TextResult;
    expect(secret.isError).toBe(true);
    expect(secret.content[0]!.text).toMatch(/may hold secrets/);
    await fs.rm(path.join(work, "ws", ".env"));
    for (const p of ["../secret.txt", path.join(work, "secret.txt")]) {
      const out = (await client.callTool({
        name: "read_file",
        arguments: { path: p, start_line: 1, end_line: 1 },
      })) as TextResult;
      expect(out.isError).toBe(true);
      expect(out.content[0]!.text).toMatch(/outside the workspace folder/);
    }
  });

  it("bad input gets an MCP error naming the field", async () => {
    const r = (await client.callTool({ name: "search_codebase", arguments: { query: 42 } })) as TextResult;
    expect(r.isError).toBe(true);
    expect(r.content[0]!.text).toMatch(/query/);
    const range = (await client.callTool({
      name: "read_file",
      arguments: { path: "src/widget.ts", start_line: 0, end_line: 1 },
    })) as TextResult;
    expect(range.isError).toBe(true);
    expect(range.content[0]!.text).toMatch(/start_line/);
  });

  it("reindex picks up a new file; the server exits cleanly when stdin closes", async () => {
    await fs.writeFile(
      path.join(work, "ws", "src", "cache.ts"),
      "export function evictOldestEntry(cache: Map<string, number>) {\n  cache.delete(cache.keys().next().value!);\n}\n",
    );
    const r = (await client.callTool({ name: "reindex", arguments: {} })) as TextResult;
    expect(r.structuredContent).toMatchObject({ files: 3, indexedFiles: 1, unchangedFiles: 2 });
    const found = (await client.callTool({
      name: "search_codebase",
      arguments: { query: "evictOldestEntry", top_k: 1, mode: "lexical" },
    })) as TextResult;
    expect((found.structuredContent as { hits: Array<{ path: string }> }).hits[0]!.path).toBe("src/cache.ts");
    const pid = transport.pid!;
    await client.close();
    let alive = true;
    for (let i = 0; i < 100 && alive; i++) {
      await new Promise((r) => setTimeout(r, 50));
      try {
        process.kill(pid, 0);
      } catch {
        alive = false;
      }
    }
    expect(alive).toBe(false);
  });
});
