import { describe, expect, it } from "vitest";
import { ChatController } from "../../common/chat/ChatController";
import type { SidecarApi } from "../../common/sidecar/SidecarApi";
import { commandsFor, helpText, parseSlash, runSlash, type SlashHost } from "../../common/chat/slashCommands";
import { SLASH_COMMANDS } from "../../common/chat/slashSpec";

// These commands never reach the sidecar; an API that fails loudly proves it.
const noSidecar: SidecarApi = {
  request: () => Promise.reject(new Error("the sidecar must not be called")),
  onNotification: () => ({ dispose() {} }),
};
const files = new Map<string, string>();
const host: SlashHost = {
  kind: "cli",
  readFile: async (p) => {
    const text = files.get(p);
    if (text === undefined) throw new Error("ENOENT: no such file");
    return text;
  },
  writeFile: async (p, t) => void files.set(p, t),
  resolvePath: (p) => `/ws/${p}`,
  defaultChatFile: () => "chat.json",
  loadChatModel: () => Promise.reject(new Error("not in this test")),
  configuredModel: () => undefined,
};
const run = (line: string, controller = new ChatController(noSidecar)) =>
  runSlash(parseSlash(line)!, { controller, api: noSidecar, host });

describe("parseSlash", () => {
  it("splits name and arguments", () => {
    expect(parseSlash("/params top-k 20")).toEqual({ name: "params", rest: "top-k 20", args: ["top-k", "20"] });
    expect(parseSlash("  /HELP  ")).toEqual({ name: "help", rest: "", args: [] });
  });
  it("keeps multi-line arguments whole", () => {
    expect(parseSlash("/system be brief\nand kind")?.rest).toBe("be brief\nand kind");
  });
  it("leaves ordinary text and // escapes alone", () => {
    expect(parseSlash("hello /help")).toBeUndefined();
    expect(parseSlash("//etc/hosts is a path")).toBeUndefined();
  });
  it("parses a bare slash as an unnamed command", () => {
    expect(parseSlash("/")?.name).toBe("");
  });
});

describe("runSlash", () => {
  it("/help lists every command with its arguments", async () => {
    const { output } = await run("/help");
    for (const c of SLASH_COMMANDS) expect(output).toContain(`/${c.name}${c.args ? ` ${c.args}` : ""}`);
  });
  it("hides CLI-only commands in VS Code", () => {
    expect(commandsFor("vscode").map((c) => c.name)).not.toContain("exit");
    expect(helpText("vscode")).not.toContain("/exit");
  });
  it("/agent in the terminal's chat points to hearth agent (the chat view runs it itself)", async () => {
    const r = await run("/agent fix the build");
    expect(r).toMatchObject({ isError: true });
    expect(r.output).toMatch(/hearth agent \[<dir>\] -p "<task>"/);
  });
  it("answers unknown commands with a suggestion and no throw", async () => {
    const r = await run("/hepl");
    expect(r.isError).toBe(true);
    expect(r.output).toMatch(/Unknown command '\/hepl'.*\/help/);
  });
  it("/params validates names and ranges", async () => {
    const c = new ChatController(noSidecar);
    expect((await run("/params temperature 0.2", c)).isError).toBeFalsy();
    expect(c.params.temperature).toBe(0.2);
    expect((await run("/params top-k 2.5", c)).output).toMatch(/integer/);
    expect((await run("/params top-p 3", c)).output).toMatch(/\[0, 1\]/);
    expect((await run("/params warmth 1", c)).output).toMatch(/Unknown parameter/);
    expect((await run("/params", c)).output).toContain("temperature: 0.2");
  });
  it("/system sets, shows and clears the system prompt", async () => {
    const c = new ChatController(noSidecar);
    await run("/system You are terse.", c);
    expect(c.conversation.system).toBe("You are terse.");
    expect((await run("/system", c)).output).toContain("You are terse.");
    await run("/system -", c);
    expect(c.conversation.system).toBeUndefined();
  });
  it("/save then /load round-trips the conversation", async () => {
    const c = new ChatController(noSidecar);
    c.conversation.messages.push({ role: "user", content: "hi", timestamp: new Date().toISOString() });
    expect((await run("/save a.json", c)).output).toContain("/ws/a.json");
    const d = new ChatController(noSidecar);
    expect((await run("/load a.json", d)).isError).toBeFalsy();
    expect(d.conversation.messages).toEqual(c.conversation.messages);
  });
  it("/load reports a missing or malformed file without losing the current chat", async () => {
    const c = new ChatController(noSidecar);
    c.conversation.messages.push({ role: "user", content: "keep me", timestamp: new Date().toISOString() });
    expect((await run("/load missing.json", c)).output).toMatch(/Cannot read \/ws\/missing.json/);
    files.set("/ws/bad.json", '{"format": 1, "id": 5}');
    expect((await run("/load bad.json", c)).output).toMatch(/'id' must be a string/);
    expect(c.conversation.messages[0]?.content).toBe("keep me");
  });
  it("/clear starts a new conversation and keeps the system prompt", async () => {
    const c = new ChatController(noSidecar, { system: "S" });
    const before = c.conversation.id;
    await run("/clear", c);
    expect(c.conversation.id).not.toBe(before);
    expect(c.conversation.system).toBe("S");
  });
  it("/backend rejects unknown backends before calling the sidecar", async () => {
    expect((await run("/backend rocm")).output).toMatch(/Usage: \/backend/);
  });
  it("/exit asks the host to exit", async () => {
    expect((await run("/exit")).exit).toBe(true);
  });
});
