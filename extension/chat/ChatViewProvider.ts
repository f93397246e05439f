import { randomBytes } from "node:crypto";
import { JSONRPCClient, JSONRPCServer, JSONRPCServerAndClient } from "json-rpc-2.0";
import * as vscode from "vscode";
import type {
  ExtensionMethod,
  ExtensionToWebview,
  WebviewMethod,
  WebviewToExtension,
} from "../../shared/webviewProtocol";
import { insideRoot } from "../../shared/workspacePath";
import type { IndexController } from "../search/IndexController";
import { openHit } from "../search/searchQuickPick";
import type { ChatSession } from "./ChatSession";

type Handlers = {
  [M in WebviewMethod]: (
    params: WebviewToExtension[M][0],
  ) => Promise<WebviewToExtension[M][1]> | WebviewToExtension[M][1];
};

/**
 * Hosts the chat webview view: serves its HTML under a strict CSP (nonce'd script and style, no inline
 * handlers, no `unsafe-eval`, no network), and bridges it to the {@link ChatSession} over json-rpc-2.0.
 * The webview may be destroyed and re-created at any time (hidden, reloaded); the session keeps the state.
 */
export class ChatViewProvider implements vscode.WebviewViewProvider, vscode.Disposable {
  static readonly viewId = "hearth.chatView";
  private view?: vscode.WebviewView;
  private rpc?: JSONRPCServerAndClient;
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly session: ChatSession,
    private readonly index: IndexController,
    private readonly actions: {
      attachSelection(): void;
      attachFile(): Promise<void>;
      insertCode(code: string): Promise<void>;
      applyCode(code: string): void;
    },
  ) {
    this.subscriptions.push(
      session.onDidChange((state) => this.send("state/set", state)),
      session.onDelta((d) => this.send("chat/delta", d)),
      session.onNotice((n) => this.send("chat/notice", n)),
    );
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    const webview = view.webview;
    webview.options = {
      enableScripts: true,
      localResourceRoots: [
        vscode.Uri.joinPath(this.extensionUri, "dist"),
        vscode.Uri.joinPath(this.extensionUri, "media"),
      ],
    };
    webview.html = this.html(webview);

    const server = new JSONRPCServer();
    const handlers: Handlers = {
      "view/ready": () => this.session.viewState(),
      "chat/submit": ({ text }) => void this.session.submit(text),
      "chat/stop": () => this.session.stop(),
      "chat/new": () => this.session.newChat(),
      "history/list": () => this.session.history.list(),
      "history/open": ({ id }) => this.session.open(id),
      "history/delete": ({ id }) => this.session.history.delete(id),
      "context/attachSelection": () => this.actions.attachSelection(),
      "context/attachFile": () => this.actions.attachFile(),
      "context/remove": ({ index }) => this.session.removeAttachment(index),
      "code/copy": async ({ code }) => {
        await vscode.env.clipboard.writeText(code);
      },
      "code/insert": ({ code }) => this.actions.insertCode(code),
      "code/apply": ({ code }) => {
        if (typeof code === "string") this.actions.applyCode(code);
      },
      "setup/open": () => void vscode.commands.executeCommand("hearth.setupModels"),
      "link/open": ({ href }) => {
        if (/^https?:/i.test(href)) void vscode.env.openExternal(vscode.Uri.parse(href));
      },
      "location/open": ({ path, startLine, endLine }) => {
        // A source or a search hit clicked in the chat: open that file of the workspace at its lines. Only a
        // path inside the workspace with sane line numbers; anything else is ignored.
        const root = this.index.target()?.root;
        if (!root || typeof path !== "string" || !insideRoot(root, path)) return;
        if (!Number.isInteger(startLine) || !Number.isInteger(endLine) || startLine < 1 || endLine < startLine) return;
        return openHit(root, { path, startLine, endLine });
      },
    };
    for (const [method, handler] of Object.entries(handlers)) {
      server.addMethod(method, (params: unknown) => (handler as (p: unknown) => unknown)(params ?? {}));
    }
    const rpc = new JSONRPCServerAndClient(
      server,
      new JSONRPCClient((request) => {
        void webview.postMessage(request);
      }),
    );
    this.rpc = rpc;
    // Malformed messages from the webview get a JSON-RPC error reply (json-rpc-2.0 validates the envelope).
    webview.onDidReceiveMessage((message) => void rpc.receiveAndSend(message), undefined, this.subscriptions);
    view.onDidDispose(() => {
      if (this.view === view) {
        this.view = undefined;
        this.rpc = undefined;
      }
    });
  }

  private send<M extends ExtensionMethod>(method: M, params: ExtensionToWebview[M][0]): void {
    this.rpc?.notify(method, params);
  }

  /** Reveal the view and put text into its input box. */
  async reveal(input?: string): Promise<void> {
    await vscode.commands.executeCommand(`${ChatViewProvider.viewId}.focus`);
    if (input !== undefined) this.send("input/set", { text: input });
  }

  private html(webview: vscode.Webview): string {
    const nonce = randomBytes(16).toString("base64");
    const script = webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, "dist", "webview.js"));
    const style = webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, "media", "chat.css"));
    const csp = [
      "default-src 'none'",
      `style-src ${webview.cspSource} 'nonce-${nonce}'`,
      `script-src 'nonce-${nonce}'`,
      `font-src ${webview.cspSource}`,
      "img-src data:",
      "connect-src 'none'",
      "form-action 'none'",
    ].join("; ");
    return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${style.toString()}" nonce="${nonce}">
<title>Hearth Chat</title>
</head>
<body>
<div id="toolbar">
  <div id="status" aria-live="polite"></div>
  <button id="history-button" title="Chat history">History</button>
  <button id="new-chat" title="New chat">New</button>
</div>
<div id="history" hidden></div>
<div id="messages" role="log" aria-live="polite"></div>
<div id="composer">
  <div id="attachments"></div>
  <div id="hint" hidden></div>
  <textarea id="input" rows="3" placeholder="Ask Hearth… (/ for commands, Shift+Enter for a new line)" aria-label="Message"></textarea>
  <div id="actions">
    <button id="attach-selection" title="Attach the editor selection">+ Selection</button>
    <button id="attach-file" title="Attach the current file">+ File</button>
    <span class="spacer"></span>
    <button id="stop" hidden title="Stop generating (Esc)">Stop</button>
    <button id="send" class="primary" title="Send (Enter)">Send</button>
  </div>
</div>
<script nonce="${nonce}" src="${script.toString()}"></script>
</body>
</html>`;
  }

  dispose(): void {
    this.subscriptions.forEach((s) => s.dispose());
  }
}
