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
        const index = await c.indexes().get(params);
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
          c.setStatus(c.readyStatus());
        }
      }),
    ),
    "index/update": method(
      parseIndexUpdateParams,
      c.onIndex(async (params, signal) => (await c.indexes().get(params)).update(params, signal)),
    ),
    "index/search": method(
      parseIndexSearchParams,
      c.onIndex(async (params, signal) =>
        (await c.indexes().get(params, true)).search(params, c.engines().rerankOrUndefined(), signal),
      ),
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
