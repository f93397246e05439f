import { JSONRPCClient, JSONRPCServer, JSONRPCServerAndClient } from "json-rpc-2.0";
import type { ExtensionMethod, ExtensionToWebview, WebviewMethod, WebviewToExtension } from "../shared/webviewProtocol";

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

/**
 * The webview's end of the json-rpc-2.0 channel: typed `request`/`notify` towards the extension and typed
 * handlers for what the extension sends. Every message crosses `postMessage` as a JSON-RPC 2.0 object.
 */
export class ExtensionChannel {
  private readonly rpc: JSONRPCServerAndClient;
  readonly vscode: VsCodeApi = acquireVsCodeApi();

  constructor() {
    this.rpc = new JSONRPCServerAndClient(
      new JSONRPCServer(),
      new JSONRPCClient((request) => {
        this.vscode.postMessage(request);
      }),
    );
    window.addEventListener("message", (event: MessageEvent) => {
      void this.rpc.receiveAndSend(event.data);
    });
  }

  request<M extends WebviewMethod>(method: M, params: WebviewToExtension[M][0]): Promise<WebviewToExtension[M][1]> {
    return this.rpc.request(method, params) as Promise<WebviewToExtension[M][1]>;
  }

  notify<M extends WebviewMethod>(method: M, params: WebviewToExtension[M][0]): void {
    this.rpc.notify(method, params);
  }

  on<M extends ExtensionMethod>(method: M, handler: (params: ExtensionToWebview[M][0]) => void): void {
    this.rpc.addMethod(method, (params) => handler(params as ExtensionToWebview[M][0]));
  }
}
