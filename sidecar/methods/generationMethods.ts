import {
  parseChatSendParams,
  parseCompleteParams,
  parseEmbedParams,
  parseInfillParams,
  parseRerankParams,
} from "../../shared/guards";
import { HearthError } from "../../shared/errors";
import { ErrorCodes } from "../../shared/protocol";
import { DeltaCoalescer } from "../DeltaCoalescer";
import { sendChat } from "../engines/toolCalling";
import { method, type MethodContext, type MethodTable } from "./context";

/** The capabilities of the loaded roles: `chat/send`, `completion/infill`, `embedding/embed`, `rerank/score`. */
export function generationMethods(
  c: MethodContext,
): MethodTable<"chat/send" | "completion/infill" | "completion/complete" | "embedding/embed" | "rerank/score"> {
  return {
    "chat/send": method(parseChatSendParams, async (params, signal) => {
      // A role unloaded to fit the memory budget is loaded again here, and kept while in use (registry `acquire`).
      const release = await c.engines().acquire("chat");
      let chat;
      try {
        chat = c.engines().chat();
      } catch (error) {
        release(); // no chat model: nothing is held
        throw error;
      }
      c.setStatus({ state: "busy", health: "ok", model: c.chatModelName(), message: "Generating" });
      const stream = new DeltaCoalescer((text) => c.notify("chat/delta", { streamId: params.streamId, text }));
      const thinking = new DeltaCoalescer((reasoning) =>
        c.notify("chat/delta", { streamId: params.streamId, text: "", reasoning }),
      );
      try {
        // Each kind flushes the other first, so the client sees reasoning and answer in the order they came.
        // Tools or not, on whichever engine: tool calling is the engines' capability (engines/toolCalling.ts).
        const info = c
          .engines()
          .loaded()
          .find((m) => m.role === "chat");
        return await sendChat(
          chat,
          info,
          params,
          (text) => {
            thinking.flush();
            stream.push(text);
          },
          signal,
          (text) => {
            stream.flush();
            thinking.push(text);
          },
        );
      } finally {
        // Every delta is on the wire before the result: clients rely on that order.
        thinking.flush();
        stream.flush();
        release();
        c.setStatus(c.readyStatus());
      }
    }),
    "completion/infill": method(parseInfillParams, async (params, signal) => {
      await c.engines().ensure("completion");
      return c.engines().completion().infill(params, signal);
    }),
    "completion/complete": method(parseCompleteParams, async (params, signal) => {
      await c.engines().ensure("completion");
      const engine = c.engines().completion();
      if (!engine.complete)
        throw new HearthError(ErrorCodes.Unsupported, "The completion model's engine cannot continue a prompt.");
      const streamId = params.streamId;
      const stream = new DeltaCoalescer((text) => streamId && c.notify("chat/delta", { streamId, text }));
      try {
        return await engine.complete(params, (text) => streamId && stream.push(text), signal);
      } finally {
        stream.flush();
      }
    }),
    "embedding/embed": method(parseEmbedParams, async (params, signal) => {
      const release = await c.engines().acquire("embedding");
      try {
        const engine = c.engines().embedding();
        const { vectors, tokens } = await engine.embed(params.texts, params.kind ?? "document", signal);
        return { vectors: vectors.map((v) => Array.from(v)), dimensions: engine.dimensions, tokens };
      } finally {
        release();
      }
    }),
    "rerank/score": method(parseRerankParams, async (params, signal) => {
      const release = await c.engines().acquire("rerank");
      try {
        return { scores: await c.engines().rerank().rank(params.query, params.documents, signal) };
      } finally {
        release();
      }
    }),
  };
}
