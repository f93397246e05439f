import {
  parseIndexBuildParams,
  parseIndexDropParams,
  parseIndexSearchParams,
  parseIndexTarget,
  parseIndexUpdateParams,
} from "../../shared/guards";
import { method, type MethodContext, type MethodTable } from "./context";

/** `index/*`: build, update, search, status and drop a workspace's code index. */
export function indexMethods(
  c: MethodContext,
): MethodTable<"index/build" | "index/update" | "index/search" | "index/status" | "index/drop"> {
  return {
    "index/build": method(
      parseIndexBuildParams,
      c.onIndex(async (params, signal) => {
        const release = await c.engines().acquire("embedding");
        const index = await c
          .indexes()
          .get(params)
          .catch((error: unknown) => {
            release();
            throw error;
          });
        c.setStatus({ state: "busy", health: "ok", model: c.chatModelName(), message: "Indexing" });
        let last = 0;
        try {
          return await index.build(
            params,
            (p) => {
              if (!params.progressId) return;
              const now = Date.now();
              if (p.phase === "index" && now - last < 100) return;
              last = now;
              c.notify("index/progress", { progressId: params.progressId, ...p });
            },
            signal,
          );
        } finally {
          release();
          c.setStatus(c.readyStatus());
        }
      }),
    ),
    "index/update": method(
      parseIndexUpdateParams,
      c.onIndex(async (params, signal) => {
        const release = await c.engines().acquire("embedding");
        try {
          return await (await c.indexes().get(params)).update(params, signal);
        } finally {
          release();
        }
      }),
    ),
    "index/search": method(
      parseIndexSearchParams,
      c.onIndex(async (params, signal) => {
        // Roles unloaded to fit the memory budget come back for the search that needs them.
        const release = await c.engines().acquire("embedding", "rerank");
        try {
          return await (await c.indexes().get(params, true)).search(params, c.engines().rerankOrUndefined(), signal);
        } finally {
          release();
        }
      }),
    ),
    "index/status": method(
      parseIndexTarget,
      c.onIndex(async (params) => (await c.indexes().get(params, true)).status()),
    ),
    "index/drop": method(
      parseIndexDropParams,
      c.onIndex(async (params) => ({ dropped: await c.indexes().drop(params, params.which) })),
    ),
  };
}
