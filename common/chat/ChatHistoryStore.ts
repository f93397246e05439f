import { promises as fs } from "node:fs";
import path from "node:path";
import { parseConversation, serializeConversation, type Conversation } from "./conversation";
import { writeFileAtomic } from "./atomicWrite";

/** One line of the history list. */
export interface HistoryEntry {
  id: string;
  title: string;
  updatedAt: string;
  messageCount: number;
}

/**
 * The per-workspace chat history: one JSON file per conversation (`<dir>/<id>.json`), written atomically
 * (temp file + rename) so a crash mid-write never leaves a half file. Files that fail to parse are skipped by
 * {@link list} and reported by {@link load}; they are never deleted silently.
 */
export class ChatHistoryStore {
  constructor(readonly dir: string) {}

  private file(id: string): string {
    if (!/^[\w-]+$/.test(id)) throw new Error(`Invalid conversation id '${id}'.`);
    return path.join(this.dir, `${id}.json`);
  }

  /** Save (create or replace) a conversation. Empty conversations are not written. */
  async save(conversation: Conversation): Promise<void> {
    if (conversation.messages.length === 0) return;
    await fs.mkdir(this.dir, { recursive: true });
    await writeFileAtomic(this.file(conversation.id), serializeConversation(conversation));
  }

  /** @throws ConversationFormatError when the file is not a valid conversation; ENOENT when missing. */
  async load(id: string): Promise<Conversation> {
    const file = this.file(id);
    return parseConversation(await fs.readFile(file, "utf8"), file);
  }

  async delete(id: string): Promise<void> {
    await fs.rm(this.file(id), { force: true });
  }

  /** All readable conversations, most recently updated first. */
  async list(): Promise<HistoryEntry[]> {
    const names = await fs.readdir(this.dir).catch(() => [] as string[]);
    const entries: HistoryEntry[] = [];
    for (const name of names) {
      if (!name.endsWith(".json")) continue;
      try {
        const c = parseConversation(await fs.readFile(path.join(this.dir, name), "utf8"), name);
        entries.push({ id: c.id, title: c.title, updatedAt: c.updatedAt, messageCount: c.messages.length });
      } catch {
        // Unreadable or foreign files stay where they are; the list just leaves them out.
      }
    }
    return entries.sort((a, b) => b.updatedAt.localeCompare(a.updatedAt));
  }
}
