import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConversation } from "../../common/chat/conversation";
import { hearth } from "../cli/hearth";
import { testModel } from "../testModels";

describe("fault suite: /save never destroys a file that is not a conversation", () => {
  let dir: string;
  let model: string;
  beforeAll(async () => {
    model = await testModel("stories260K");
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "hearth-faults-save-"));
  });
  afterAll(() => fs.rm(dir, { recursive: true, force: true }));

  it("refuses to overwrite another file, saves new and conversation files atomically, and the REPL goes on", async () => {
    const precious = path.join(dir, "notes.txt");
    await fs.writeFile(precious, "my notes\n");
    const chat = path.join(dir, "chat.json");
    const r = await hearth(
      ["chat", "--model", model, "--max-tokens", "4", "--temperature", "0", "--threads", "1"],
      `Once upon a time\n/save ${precious}\n/save ${chat}\n/save ${chat}\n/save ${dir}\n/exit\n`,
      { cwd: dir },
    );
    expect(r.code).toBe(0);
    const said = r.stdout + r.stderr; // errors go to stderr
    expect(said).toContain(`${precious} exists and is not a Hearth conversation`);
    expect(await fs.readFile(precious, "utf8")).toBe("my notes\n");
    // Saved, then replaced by the second /save (a conversation may be overwritten).
    expect(said.split(`Saved 2 messages to ${chat}`).length - 1).toBe(2);
    expect(parseConversation(await fs.readFile(chat, "utf8"), chat).messages).toHaveLength(2);
    // A folder is no file to save into: an error, not a crash; and no temporary file is left behind.
    expect(said).toMatch(new RegExp(`Cannot save to ${dir.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`));
    expect((await fs.readdir(dir)).sort()).toEqual(["chat.json", "notes.txt"]);
  }, 60_000);
});
