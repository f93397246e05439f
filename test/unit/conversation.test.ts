import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ChatHistoryStore } from "../../common/chat/ChatHistoryStore";
import {
  ConversationFormatError,
  newConversation,
  parseConversation,
  serializeConversation,
  titleFrom,
} from "../../common/chat/conversation";

describe("conversation JSON", () => {
  it("round-trips with timestamps, system prompt, params and answer metadata", () => {
    const c = newConversation(new Date("2026-11-20T10:00:00Z"));
    c.system = "Be brief.";
    c.params = { temperature: 0, maxTokens: 64 };
    c.messages.push(
      { role: "user", content: "Explain `x => x`\n<script>", timestamp: "2026-11-20T10:00:01.000Z" },
      {
        role: "assistant",
        content: "Identity.",
        timestamp: "2026-11-20T10:00:02.000Z",
        stopReason: "cancelled",
        droppedMessages: 2,
      },
    );
    const text = serializeConversation(c);
    expect(parseConversation(text)).toEqual(c);
    expect(text.endsWith("\n")).toBe(true);
  });
  it("names the file and field that are wrong", () => {
    expect(() => parseConversation("{", "x.json")).toThrow(/x.json is not valid JSON/);
    const c = newConversation();
    const bad = { ...c, messages: [{ role: "robot", content: "", timestamp: c.createdAt }] };
    expect(() => parseConversation(JSON.stringify(bad), "y.json")).toThrow(ConversationFormatError);
    expect(() => parseConversation(JSON.stringify(bad), "y.json")).toThrow(/y.json: 'messages\[0\].role'/);
    expect(() => parseConversation(JSON.stringify({ ...c, updatedAt: "yesterday" }))).toThrow(/updatedAt/);
  });
  it("titles a chat from its first line", () => {
    expect(titleFrom("  how do I parse?\nmore")).toBe("how do I parse?");
    expect(titleFrom("x".repeat(100))).toHaveLength(58);
  });
});

describe("ChatHistoryStore", () => {
  it("saves, lists newest first, loads and deletes; skips unreadable files", async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "hearth-history-"));
    const store = new ChatHistoryStore(dir);
    const a = newConversation(new Date("2026-01-01T00:00:00Z"));
    a.messages.push({ role: "user", content: "first", timestamp: a.createdAt });
    const b = newConversation(new Date("2026-02-01T00:00:00Z"));
    b.messages.push({ role: "user", content: "second", timestamp: b.createdAt });
    await store.save(a);
    await store.save(b);
    await store.save(newConversation()); // empty: not written
    await fs.writeFile(path.join(dir, "junk.json"), "not json");
    const list = await store.list();
    expect(list.map((e) => e.id)).toEqual([b.id, a.id]);
    expect(await store.load(a.id)).toEqual(a);
    await store.delete(a.id);
    expect((await store.list()).map((e) => e.id)).toEqual([b.id]);
    // The unreadable file is left alone, not deleted.
    expect(await fs.readFile(path.join(dir, "junk.json"), "utf8")).toBe("not json");
    expect((await fs.readdir(dir)).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });
  it("refuses ids that could escape the folder", async () => {
    await expect(new ChatHistoryStore(os.tmpdir()).load("../etc/passwd")).rejects.toThrow(/Invalid conversation id/);
  });
});
