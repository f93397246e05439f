/** A piece of editor context attached to the next message. */
export interface Attachment {
  label: string;
  languageId: string;
  text: string;
}

/** The editor context waiting to go with the next message (a selection, a whole file), in the order added. */
export class Attachments {
  private items: Attachment[] = [];

  /** What the chat view shows of each. */
  labels(): Array<{ label: string }> {
    return this.items.map((a) => ({ label: a.label }));
  }

  add(attachment: Attachment): void {
    this.items.push(attachment);
  }

  /** Drop the one at `index` (0-based, as the view lists them); out of range does nothing. */
  remove(index: number): void {
    this.items.splice(index, 1);
  }

  clear(): void {
    this.items = [];
  }

  /** `text` with each attachment as a fenced block (label, language) before it; `text` alone without any. */
  compose(text: string): string {
    if (this.items.length === 0) return text;
    const blocks = this.items.map((a) => `${a.label}:\n\`\`\`${a.languageId}\n${a.text}\n\`\`\``);
    return `${blocks.join("\n\n")}\n\n${text}`;
  }
}
