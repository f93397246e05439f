import * as path from "node:path";
import * as vscode from "vscode";
import { codebaseCharBudget, codebaseContext } from "../../common/search/codebaseContext";
import { hitLocation, searchMethod } from "../../common/search/format";
import type { ModelRoles } from "../../common/models/ModelRoles";
import { HearthError } from "../../shared/errors";
import { ErrorCodes, type SearchHit } from "../../shared/protocol";
import { readConfig } from "../config";
import { ensureChatModel } from "../models/chatModel";
import type { IndexController } from "../search/IndexController";
import type { SidecarClient } from "../sidecar/SidecarClient";

/** The slash commands of `@hearth` that run one of Hearth's actions on the active editor's selection. */
const ACTIONS: Record<string, string> = {
  explain: "hearth.explainSelection",
  fix: "hearth.fixSelection",
  doc: "hearth.documentSelection",
  tests: "hearth.generateTests",
};

/**
 * `@hearth` in VS Code's own chat view: `/search` lists the index's hits as chat references; a question is
 * answered by Hearth's chat model (through the sidecar, streamed, cancellable) with the index's top chunks as
 * context, cited as references; `/explain`, `/fix`, `/doc` and `/tests` run Hearth's actions on the active
 * editor's selection (edits still go through Hearth's reviewed diff).
 */
export function registerHearthParticipant(
  context: vscode.ExtensionContext,
  deps: { sidecar: SidecarClient; roles: ModelRoles; index: IndexController },
): vscode.Disposable {
  const { sidecar, roles, index } = deps;
  const handler: vscode.ChatRequestHandler = async (request, _chat, stream, token) => {
    const abort = new AbortController();
    const sub = token.onCancellationRequested(() => abort.abort());
    try {
      if (request.command && ACTIONS[request.command]) {
        if (!vscode.window.activeTextEditor) {
          stream.markdown(`Open a file and select code first: \`/${request.command}\` works on the selection.`);
          return {};
        }
        stream.progress(`Running Hearth's ${request.command} on the selection…`);
        await vscode.commands.executeCommand(ACTIONS[request.command]!);
        stream.markdown(`Hearth ran **${request.command}** on the selection; its answer or reviewed diff is open.`);
        return {};
      }
      if (request.command === "search") {
        if (!request.prompt.trim()) {
          stream.markdown("Say what to look for: `@hearth /search where is the config parsed`.");
          return {};
        }
        stream.progress("Searching the local index…");
        const r = await index.search(request.prompt, { signal: abort.signal });
        if (!r.hits.length) {
          stream.markdown(`No code matches "${request.prompt}".`);
          return {};
        }
        const n = r.hits.length;
        stream.markdown(`${n} hit${n === 1 ? "" : "s"} (${searchMethod(r)}):\n\n`);
        for (const h of r.hits) {
          stream.markdown(`- \`${hitLocation(h)}\`${h.symbol ? ` ${h.symbol}` : ""} (score ${h.score.toFixed(3)})\n`);
          const loc = location(index, h);
          if (loc) stream.reference(loc);
        }
        return { metadata: { hits: r.hits.length } };
      }
      // A question: Hearth's chat model, with the index's chunks as context when there is a folder.
      const config = readConfig();
      await sidecar.start();
      if (!(await ensureChatModel(roles, sidecar, config))) {
        stream.markdown("Hearth needs a chat model: run *Hearth: Select Chat Model*.");
        return {};
      }
      let prompt = request.prompt;
      if (index.target()) {
        stream.progress("Searching the local index…");
        const r = await index
          .search(request.prompt, { topK: config.search.codebaseChunks, signal: abort.signal })
          .catch(() => undefined);
        if (r?.hits.length) {
          const { context: ctx, sources } = codebaseContext(
            r.hits,
            codebaseCharBudget(roles.info("chat")?.contextSize),
          );
          prompt = `${ctx}\n\n${request.prompt}`;
          for (const s of sources) {
            const hit = r.hits.find((h) => h.path === s.path && h.startLine === s.startLine);
            const loc = hit ? location(index, hit) : undefined;
            if (loc) stream.reference(loc);
          }
        }
      }
      const streamId = `participant-${Date.now()}`;
      const deltas = sidecar.onNotification("chat/delta", (d) => {
        if (d.streamId === streamId && d.text) stream.markdown(d.text);
      });
      try {
        await sidecar.request(
          "chat/send",
          {
            streamId,
            system: config.systemPrompt,
            messages: [{ role: "user", content: prompt }],
            params: { maxTokens: config.generation.maxTokens, temperature: config.generation.temperature },
          },
          abort.signal,
        );
      } finally {
        deltas.dispose();
      }
      return {};
    } catch (error) {
      const e = HearthError.from(error);
      if (e.code !== ErrorCodes.Cancelled) stream.markdown(`Hearth: ${e.userMessage}`);
      return { errorDetails: e.code === ErrorCodes.Cancelled ? undefined : { message: e.userMessage } };
    } finally {
      sub.dispose();
    }
  };
  const participant = vscode.chat.createChatParticipant("hearth.participant", handler);
  participant.iconPath = vscode.Uri.joinPath(context.extensionUri, "media", "hearth.svg");
  return participant;
}

/** The editor location of a hit (the index's paths are relative to its root). */
function location(index: IndexController, h: SearchHit): vscode.Location | undefined {
  const root = index.target()?.root;
  if (!root) return undefined;
  return new vscode.Location(
    vscode.Uri.file(path.join(root, h.path)),
    new vscode.Range(h.startLine - 1, 0, h.endLine - 1, Number.MAX_SAFE_INTEGER),
  );
}
