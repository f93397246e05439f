/**
 * The chat view: renders the extension's {@link ViewState} projection, streams deltas into the last answer,
 * and sends user intents back. Browser code only: no Node modules, no file system, no network (the CSP
 * forbids it anyway).
 */
import DOMPurify from "dompurify";
import { renderMarkdown } from "./markdown";
import { ExtensionChannel } from "./messaging";
import type { HistoryItem, ViewHit, ViewMessage, ViewState } from "../shared/webviewProtocol";

const channel = new ExtensionChannel();
const purify = DOMPurify(window);

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const messagesEl = $<HTMLDivElement>("messages");
const inputEl = $<HTMLTextAreaElement>("input");
const sendBtn = $<HTMLButtonElement>("send");
const stopBtn = $<HTMLButtonElement>("stop");
const statusEl = $<HTMLDivElement>("status");
const attachmentsEl = $<HTMLDivElement>("attachments");
const hintEl = $<HTMLDivElement>("hint");
const historyEl = $<HTMLDivElement>("history");

let state: ViewState | undefined;
/**
 * Notices (slash-command output, errors) are not part of the conversation; the webview keeps them, each placed
 * after the message count it arrived at, so re-rendering the state does not wipe them. A new conversation
 * clears them.
 */
let notices: { conversationId: string; after: number; kind: "info" | "error"; text: string; hits?: ViewHit[] }[] = [];
/**
 * Text streamed into the answer being generated, rendered on the next animation frame; a reasoning model's
 * thinking streams into a folded block above it (`reasoning`, made on its first piece).
 */
let streaming:
  { item: HTMLElement; el: HTMLElement; text: string; scheduled: boolean; reasoning?: HTMLElement } | undefined;

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className?: string,
  text?: string,
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Render markdown into `target` and give each code block Copy / Insert buttons. */
function renderInto(target: HTMLElement, markdown: string): void {
  target.innerHTML = renderMarkdown(markdown, purify);
  for (const pre of target.querySelectorAll("pre")) {
    // A folded tool result of /agent's transcript is not code to copy, insert or apply.
    if (pre.closest("details")) continue;
    const code = pre.textContent ?? "";
    const bar = el("div", "code-actions");
    const copy = el("button", "code-button", "Copy");
    copy.title = "Copy to clipboard";
    copy.addEventListener("click", () => channel.notify("code/copy", { code }));
    const insert = el("button", "code-button", "Insert");
    insert.title = "Insert at the cursor";
    insert.addEventListener("click", () => channel.notify("code/insert", { code }));
    const apply = el("button", "code-button", "Apply");
    apply.title =
      "Apply as a reviewed edit (diff with Accept / Reject) to the selection, or to the file the block names";
    apply.addEventListener("click", () => channel.notify("code/apply", { code }));
    bar.append(copy, insert, apply);
    pre.before(bar);
  }
}

/** Clickable code locations (search hits, `@codebase` sources) with the scores that picked them. */
function hitsView(hits: ViewHit[]): HTMLElement {
  const list = el("ol", "hits");
  for (const h of hits) {
    const row = el("li", "hit");
    const link = el("button", "hit-link", `${h.path}:${h.startLine}-${h.endLine}${h.symbol ? `  ${h.symbol}` : ""}`);
    link.title = "Open at these lines";
    link.addEventListener("click", () =>
      channel.notify("location/open", { path: h.path, startLine: h.startLine, endLine: h.endLine }),
    );
    row.append(link, el("div", "hit-why", h.why));
    list.append(row);
  }
  return list;
}

/**
 * A reasoning model's thinking, folded: plain text (never markdown, so no code block in it gets Insert or Apply).
 * @returns the `<details>` block and the element its text goes into.
 */
function reasoningView(text: string): { block: HTMLElement; body: HTMLElement } {
  const block = el("details", "reasoning");
  const body = el("div", "reasoning-text", text);
  block.append(el("summary", undefined, "Reasoning"), body);
  return { block, body };
}

function messageView(m: ViewMessage): HTMLElement {
  const item = el("div", `message ${m.role}`);
  const header = el("div", "message-header", m.role === "user" ? "You" : "Hearth");
  const time = el("span", "time", new Date(m.timestamp).toLocaleTimeString());
  header.append(time);
  const body = el("div", "message-body");
  if (m.role === "user") body.textContent = m.content;
  else renderInto(body, m.content);
  item.append(header);
  if (m.reasoning) item.append(reasoningView(m.reasoning).block);
  item.append(body);
  if (m.sources?.length) {
    const details = el("details", "sources");
    details.append(el("summary", undefined, `Used ${m.sources.length} chunks from the codebase`), hitsView(m.sources));
    item.append(details);
  }
  if (m.stopReason === "cancelled") item.append(el("div", "note", "Stopped."));
  if (m.stopReason === "interrupted") {
    item.append(el("div", "note", "Interrupted: the model stopped answering mid-way; this is what had arrived."));
  }
  if (m.stopReason === "maxTokens") item.append(el("div", "note", "Stopped at the token limit (/params max-tokens)."));
  if (m.droppedMessages) {
    item.append(
      el("div", "note", `${m.droppedMessages} older messages were left out: the chat outgrew the context window.`),
    );
  }
  return item;
}

function noticeView(kind: "info" | "error", text: string, hits?: ViewHit[]): HTMLElement {
  const note = el("div", `notice ${kind}`);
  note.append(el("pre", "notice-text", text));
  if (hits?.length) note.append(hitsView(hits));
  return note;
}

function render(next: ViewState): void {
  state = next;
  streaming = undefined;
  notices = notices.filter((n) => n.conversationId === next.conversationId);
  const items: HTMLElement[] = [];
  next.messages.forEach((m, i) => {
    items.push(...notices.filter((n) => n.after === i).map((n) => noticeView(n.kind, n.text, n.hits)));
    items.push(messageView(m));
  });
  items.push(...notices.filter((n) => n.after >= next.messages.length).map((n) => noticeView(n.kind, n.text, n.hits)));
  messagesEl.replaceChildren(...items);
  if (next.messages.length === 0 && notices.length === 0) {
    const empty = el("div", "empty", "Ask about your code, or type / for commands.");
    if (!next.model && next.modelConfigured === false) {
      // No chat model yet: the first-run flow is one click away.
      const setup = el("button", "setup-models", "Set up models for this machine");
      setup.addEventListener("click", () => channel.notify("setup/open", {}));
      empty.append(el("div", "empty-hint", "No model is set up yet."), setup);
    }
    messagesEl.append(empty);
  }
  if (next.generating) {
    const last = next.messages[next.messages.length - 1];
    if (!last || last.role !== "assistant") {
      const item = el("div", "message assistant generating");
      item.append(el("div", "message-header", "Hearth"));
      const body = el("div", "message-body");
      item.append(body);
      messagesEl.append(item);
      streaming = { item, el: body, text: "", scheduled: false };
    }
  }
  attachmentsEl.replaceChildren(
    ...next.attachments.map((a, index) => {
      const chip = el("span", "chip", a.label);
      const remove = el("button", "chip-remove", "×");
      remove.title = "Remove";
      remove.addEventListener("click", () => channel.notify("context/remove", { index }));
      chip.append(remove);
      return chip;
    }),
  );
  statusEl.textContent = next.status ?? (next.model ? next.model : "No model");
  sendBtn.hidden = next.generating;
  stopBtn.hidden = !next.generating;
  document.body.classList.toggle("is-generating", next.generating);
  messagesEl.scrollTop = messagesEl.scrollHeight;
}

channel.on("state/set", render);
channel.on("chat/delta", ({ conversationId, text, reasoning }) => {
  if (!streaming || conversationId !== state?.conversationId) return;
  if (reasoning) {
    if (!streaming.reasoning) {
      const view = reasoningView("");
      streaming.item.insertBefore(view.block, streaming.el);
      streaming.reasoning = view.body;
    }
    streaming.reasoning.append(reasoning);
  }
  if (!text) return;
  streaming.text += text;
  if (streaming.scheduled) return;
  streaming.scheduled = true;
  requestAnimationFrame(() => {
    if (!streaming) return;
    streaming.scheduled = false;
    renderInto(streaming.el, streaming.text);
    messagesEl.scrollTop = messagesEl.scrollHeight;
  });
});
channel.on("chat/notice", ({ kind, text, hits }) => {
  if (!state) return;
  notices.push({ conversationId: state.conversationId, after: state.messages.length, kind, text, hits });
  messagesEl.querySelector(".empty")?.remove();
  messagesEl.append(noticeView(kind, text, hits));
  messagesEl.scrollTop = messagesEl.scrollHeight;
});
channel.on("input/set", ({ text }) => {
  inputEl.value = text;
  inputEl.focus();
});

function submit(): void {
  const text = inputEl.value;
  if (!text.trim() || state?.generating) return;
  inputEl.value = "";
  updateHint();
  channel.notify("chat/submit", { text });
}

function updateHint(): void {
  const value = inputEl.value;
  if (!value.startsWith("/") || value.includes(" ") || !state) {
    hintEl.hidden = true;
    return;
  }
  const prefix = value.slice(1).toLowerCase();
  const matches = state.commands.filter((c) => c.name.startsWith(prefix));
  hintEl.replaceChildren(
    ...matches.map((c) => {
      const row = el("div", "hint-row");
      row.append(
        el("code", undefined, `/${c.name}${c.args ? ` ${c.args}` : ""}`),
        el("span", undefined, ` ${c.description}`),
      );
      row.addEventListener("click", () => {
        inputEl.value = `/${c.name} `;
        inputEl.focus();
        updateHint();
      });
      return row;
    }),
  );
  hintEl.hidden = matches.length === 0;
}

async function showHistory(): Promise<void> {
  if (!historyEl.hidden) {
    historyEl.hidden = true;
    return;
  }
  const items: HistoryItem[] = await channel.request("history/list", {});
  historyEl.replaceChildren(
    el("div", "history-title", items.length ? "Chats" : "No saved chats yet."),
    ...items.map((item) => {
      const row = el("div", "history-row");
      const open = el("button", "history-open", `${item.title} · ${item.messageCount} messages`);
      open.title = new Date(item.updatedAt).toLocaleString();
      open.addEventListener("click", () => {
        historyEl.hidden = true;
        channel.notify("history/open", { id: item.id });
      });
      const del = el("button", "history-delete", "Delete");
      del.addEventListener("click", async () => {
        await channel.request("history/delete", { id: item.id });
        historyEl.hidden = true;
        void showHistory();
      });
      row.append(open, del);
      return row;
    }),
  );
  historyEl.hidden = false;
}

inputEl.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    submit();
  } else if (event.key === "Escape" && state?.generating) {
    channel.notify("chat/stop", {});
  }
});
inputEl.addEventListener("input", updateHint);
sendBtn.addEventListener("click", submit);
stopBtn.addEventListener("click", () => channel.notify("chat/stop", {}));
$("new-chat").addEventListener("click", () => channel.notify("chat/new", {}));
$("history-button").addEventListener("click", () => void showHistory());
$("attach-selection").addEventListener("click", () => channel.notify("context/attachSelection", {}));
$("attach-file").addEventListener("click", () => channel.notify("context/attachFile", {}));

// Links in answers: never navigate the webview; ask the extension to open http(s) links externally.
messagesEl.addEventListener("click", (event) => {
  const anchor = (event.target as HTMLElement).closest("a");
  if (!anchor) return;
  event.preventDefault();
  const href = anchor.getAttribute("href") ?? "";
  if (/^https?:/i.test(href)) channel.notify("link/open", { href });
});

void channel.request("view/ready", {}).then(render);
