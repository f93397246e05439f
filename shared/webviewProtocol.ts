/**
 * The typed protocol between the chat webview and the extension, carried by `json-rpc-2.0` over
 * `postMessage`. The extension holds the state (conversation, attachments, generation); the webview renders a
 * projection of it and sends user intents back. Both sides import this module (`import type` from the extension).
 *
 * Each entry of {@link WebviewToExtension} / {@link ExtensionToWebview} maps a method name to `[params, result]`;
 * notifications have result `void`.
 */
/** A code chunk used as context: where it is and why it was picked (stored in saved conversations too). */
export interface SourceRef {
  path: string;
  startLine: number;
  endLine: number;
  symbol?: string;
  score: number;
  /** Human-readable scores, e.g. "lexical 7.12 (#1) · vector 0.613 (#3) · fused 0.0325". */
  why: string;
}

/** A message as the webview shows it. */
export interface ViewMessage {
  role: "user" | "assistant";
  /** Markdown source; the webview renders it sanitized. */
  content: string;
  timestamp: string;
  stopReason?: "stop" | "maxTokens" | "cancelled" | "interrupted";
  droppedMessages?: number;
  /** Assistant turns: what a reasoning model thought first; shown folded, apart from the answer. */
  reasoning?: string;
  /** User turns with `@codebase`: the chunks the model was given, with why each was picked. */
  sources?: ViewHit[];
}

/** A code location shown as a link: a `/search` hit or a chunk used as `@codebase` context (the stored shape). */
export type ViewHit = SourceRef;

/** Something attached to the next message as context. */
export interface ViewAttachment {
  /** "src/app.ts:10-24" or "src/app.ts". */
  label: string;
}

export interface ViewSlashCommand {
  name: string;
  args: string;
  description: string;
}

/** The whole projection; sent on `ready` and after every change the extension makes. */
export interface ViewState {
  conversationId: string;
  title: string;
  messages: ViewMessage[];
  attachments: ViewAttachment[];
  generating: boolean;
  /** Chat model file name, if one is loaded. */
  model?: string;
  /** Whether a chat model (or engine) is set at all; false shows the empty chat's "Set up models" button. */
  modelConfigured?: boolean;
  /** Sidecar status sentence, e.g. "Loading model…". */
  status?: string;
  commands: ViewSlashCommand[];
}

export interface HistoryItem {
  id: string;
  title: string;
  updatedAt: string;
  messageCount: number;
}

/** Webview → extension. */
export interface WebviewToExtension {
  /** The webview finished loading; the extension answers with the current state. */
  "view/ready": [Record<string, never>, ViewState];
  /** The user pressed Enter: a slash command or a message (with the pending attachments). */
  "chat/submit": [{ text: string }, void];
  /** The user pressed Stop. */
  "chat/stop": [Record<string, never>, void];
  /** The user asked for a new chat. */
  "chat/new": [Record<string, never>, void];
  "history/list": [Record<string, never>, HistoryItem[]];
  "history/open": [{ id: string }, void];
  "history/delete": [{ id: string }, void];
  "context/attachSelection": [Record<string, never>, void];
  "context/attachFile": [Record<string, never>, void];
  "context/remove": [{ index: number }, void];
  /** Copy a code block to the clipboard. */
  "code/copy": [{ code: string }, void];
  /** Insert a code block at the cursor of the active editor (replacing its selection). */
  "code/insert": [{ code: string }, void];
  /**
   * Apply a code block as a reviewed edit: to the file it names on its first line (`// file: path`), else to the
   * active editor's selection (the whole file when nothing is selected). Opens a diff with Accept / Reject.
   */
  "code/apply": [{ code: string }, void];
  /** Open a link from the rendered answer (http/https only; the extension asks VS Code to open it). */
  "link/open": [{ href: string }, void];
  /** The empty chat's "Set up models" button: run *Hearth: Set Up Models*. */
  "setup/open": [Record<string, never>, void];
  /** Open a workspace file at a line range (a search hit or a source was clicked). */
  "location/open": [{ path: string; startLine: number; endLine: number }, void];
}

/** Extension → webview. */
export interface ExtensionToWebview {
  /** Replace the projection. */
  "state/set": [ViewState, void];
  /** Append streamed text to the answer being generated (the last message), or to its folded reasoning. */
  "chat/delta": [{ conversationId: string; text: string; reasoning?: string }, void];
  /** A line for the user that is not part of the conversation: slash-command output or an error. */
  "chat/notice": [{ kind: "info" | "error"; text: string; hits?: ViewHit[] }, void];
  /** Put text into the input box (e.g. "Open Chat with Selection"). */
  "input/set": [{ text: string }, void];
}

export type WebviewMethod = keyof WebviewToExtension;
export type ExtensionMethod = keyof ExtensionToWebview;
