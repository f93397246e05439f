import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newConversation, parseConversation, serializeConversation } from "../../common/chat/conversation";
import { hearth } from "../cli/hearth";
import { testModel } from "../testModels";

/** The saved JSON, loosely typed so a test can break any field of it. */
type Chat = { params?: unknown; messages: Array<Record<string, unknown>> };

/** A valid saved chat with one message, changed by `edit` (a deep copy of its JSON). */
function chatWith(edit: (c: Chat) => void): string {
  const c = JSON.parse(
    serializeConversation({
      ...newConversation(new Date("2026-01-01T00:00:00Z")),
      messages: [{ role: "user", content: "hi", timestamp: "2026-01-01T00:00:00.000Z" }],
    }),
  );
  edit(c);
  return JSON.stringify(c);
}
const source = { path: "src/a.ts", startLine: 1, endLine: 2, score: 0.5, why: "lexical" };

const BAD: Array<[string, string, RegExp]> = [
  ["a temperature of -5", chatWith((c) => (c.params = { temperature: -5 })), /params\.temperature/],
  ["maxTokens 10^12", chatWith((c) => (c.params = { maxTokens: 1e12 })), /params\.maxTokens/],
  ["topP as a string", chatWith((c) => (c.params = { topP: "1" })), /params\.topP/],
  [
    "a source outside the workspace",
    chatWith((c) => (c.messages[0]!["sources"] = [{ ...source, path: "../../etc/passwd" }])),
    /sources\[0\]\.path/,
  ],
  [
    "an absolute source",
    chatWith((c) => (c.messages[0]!["sources"] = [{ ...source, path: "/etc/passwd" }])),
    /sources\[0\]\.path/,
  ],
  [
    "a source ending before it starts",
    chatWith((c) => (c.messages[0]!["sources"] = [{ ...source, endLine: 0 }])),
    /sources\[0\]\.endLine/,
  ],
  ["a source that is a string", chatWith((c) => (c.messages[0]!["sources"] = ["src/a.ts"])), /sources\[0\]/],
];

describe("fault suite: /load takes only conversations the sidecar would accept", () => {
  it.each(BAD)("refuses %s, naming the field", (_name, text, field) => {
    expect(() => parseConversation(text, "chat.json")).toThrow(field);
  });

  it("keeps a valid chat with params and sources", () => {
    const text = chatWith((c) => {
      c.params = { temperature: 0.2, maxTokens: 64 };
      c.messages[0]!["sources"] = [source];
    });
    expect(parseConversation(text).messages[0]?.sources?.[0]?.path).toBe("src/a.ts");
  });

  describe("in the REPL", () => {
    let dir: string;
    beforeAll(async () => {
      dir = await fs.mkdtemp(path.join(os.tmpdir(), "hearth-faults-load-"));
      await fs.writeFile(path.join(dir, "bad.json"), BAD[0]![1]);
    });
    afterAll(() => fs.rm(dir, { recursive: true, force: true }));

    it("a bad file is an error naming it and the chat goes on", async () => {
      const r = await hearth(
        ["chat", "--model", await testModel("stories260K"), "--max-tokens", "4", "--threads", "1"],
        `/load ${path.join(dir, "bad.json")}\n/params\nOnce upon a time\n/exit\n`,
        { cwd: dir },
      );
      const said = r.stdout + r.stderr;
      expect(r.code).toBe(0);
      expect(said).toMatch(/bad\.json: 'params\.temperature' must be/);
      expect(said).toContain("Assistant>");
    }, 60_000);
  });
});
