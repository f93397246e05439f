import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EDIT_TOOLS, READ_TOOLS } from "../../common/agent/agentTools";
import type { SidecarApi } from "../../common/sidecar/SidecarApi";
import type { ToolContext } from "../../common/tools/definition";
import { readWorkspaceText } from "../../common/tools/workspaceAccess";
import { isSecretsFile } from "../../shared/workspaceFiles";
import { insideRoot } from "../../shared/workspacePath";
import { discoverFiles, isIndexable } from "../../sidecar/search/discover";

/*
 * Issue 31, M3, m13 and m14: the one workspace-file policy (shared/workspaceFiles.ts) judges a file by what it
 * is, not by the name it is reached through. A cloned repository can hold a link named `notes.txt` to `.env`, or a
 * folder link to `.aws`: neither is read by the agent or MCP without the user's yes, nor indexed. Real files and
 * symlinks in a temp folder.
 */
describe("fault suite: secrets files through symlinks, and the secrets list", () => {
  let root: string;
  const ctx = (confirmSecret?: (rel: string) => Promise<boolean>): ToolContext => ({
    api: {} as SidecarApi, // these tools never call the sidecar
    target: { root, storageDir: path.join(root, "..", "index") },
    signal: new AbortController().signal,
    ...(confirmSecret ? { confirmSecret } : {}),
  });
  const tool = (name: string) => [...READ_TOOLS, ...EDIT_TOOLS].find((t) => t.name === name)!;

  beforeAll(async () => {
    const base = await fs.mkdtemp(path.join(os.tmpdir(), "hearth-faults-secrets-"));
    root = path.join(base, "ws");
    await fs.mkdir(path.join(root, ".aws"), { recursive: true });
    await fs.writeFile(path.join(root, ".env"), "API_KEY=secret\n");
    await fs.writeFile(path.join(root, ".aws", "credentials"), "[default]\naws_secret_access_key=secret\n");
    await fs.writeFile(path.join(root, "app.ts"), "export const app = 1;\n");
    await fs.symlink(".env", path.join(root, "notes.txt"));
    await fs.symlink(".env", path.join(root, "config.ts"));
    await fs.symlink(".aws", path.join(root, "cloud"));
    // `.aws` itself is ignored, so the index reaches its files only through the `cloud` link.
    await fs.writeFile(path.join(root, ".gitignore"), ".aws/\n");
    // Names of the secrets list that were missing: each would be indexed as text if it had a known type.
    for (const name of [".git-credentials", ".pgpass", ".pypirc", "id_dsa", "release.jks", "app.keystore.json.key"])
      await fs.writeFile(path.join(root, name), "secret\n");
  });
  afterAll(() => fs.rm(path.dirname(root), { recursive: true, force: true }));

  it("read_file through a link to .env asks first, as for .env itself; without a yes it is not read", async () => {
    await expect(tool("read_file").run({ path: "notes.txt", start_line: null, end_line: null }, ctx())).rejects.toThrow(
      /'notes.txt' may hold secrets; Hearth reads it only when the user allows it/,
    );
    const asked: string[] = [];
    const yes = ctx(async (rel) => (asked.push(rel), true));
    expect(await tool("read_file").run({ path: "notes.txt", start_line: null, end_line: null }, yes)).toBe(
      "1: API_KEY=secret\n2: ",
    );
    expect(asked).toEqual(["notes.txt"]);
    await expect(
      tool("read_file").run({ path: "cloud/credentials", start_line: 1, end_line: 1 }, ctx()),
    ).rejects.toThrow(/may hold secrets/);
  });

  it("MCP's reader and the edit tools refuse a link to a secrets file", async () => {
    await expect(readWorkspaceText(root, "notes.txt")).rejects.toThrow(/'notes.txt' may hold secrets/);
    await expect(readWorkspaceText(root, "cloud/credentials")).rejects.toThrow(/may hold secrets/);
    await expect(
      tool("propose_edit").run({ edits: [{ path: "config.ts", old_text: "secret", new_text: "x" }] }, ctx()),
    ).rejects.toThrow(/'config.ts' may hold secrets/);
  });

  it("the index never takes a secrets file, by name or through a link, and a watcher update does not either", async () => {
    const { files, skipped } = await discoverFiles(root, { exclude: [] });
    expect(files.map((f) => f.path)).toEqual(["app.ts"]);
    const secret = skipped.filter((s) => s.reason === "may hold secrets (never indexed)").map((s) => s.path);
    expect(secret.sort()).toEqual(
      [
        ".env",
        ".git-credentials",
        ".pgpass",
        ".pypirc",
        "app.keystore.json.key",
        "cloud/credentials",
        "config.ts",
        "id_dsa",
        "notes.txt",
        "release.jks",
      ].sort(),
    );
    expect(await isIndexable(root, "config.ts")).toBe(false);
    expect(await isIndexable(root, "app.ts")).toBe(true);
  });

  it("the secrets list knows cloud, container, git and package-registry credentials", () => {
    for (const rel of [".docker/config.json", ".kube/config", ".git/config", "sub/.aws/config", "db/.pgpass"])
      expect(isSecretsFile(rel), rel).toBe(true);
    for (const rel of ["config.json", "kube/config.ts", "src/keys.ts", "docs/env.md"])
      expect(isSecretsFile(rel), rel).toBe(false);
  });

  it("a name that starts with two dots is inside the folder; a NUL in a path is refused with a clear error", async () => {
    await fs.writeFile(path.join(root, "..e.ts"), "export const e = 1;\n");
    expect(insideRoot(root, "..e.ts")).toBe(path.join(root, "..e.ts"));
    expect(await tool("read_file").run({ path: "..e.ts", start_line: null, end_line: null }, ctx())).toBe(
      "1: export const e = 1;\n2: ",
    );
    expect(insideRoot(root, "app.ts\0.png")).toBeUndefined();
    await expect(tool("read_file").run({ path: "app.ts\0", start_line: null, end_line: null }, ctx())).rejects.toThrow(
      /cannot hold a NUL character/,
    );
  });
});
