import { HearthError } from "../../shared/errors";
import { ErrorCodes, FUSION_METHODS, SEARCH_MODES } from "../../shared/protocol";
import { settingDefault } from "../../shared/settings";
import { defineCommand } from "../command";
import { INDEX_OPTIONS, indexOptions } from "./indexCommand";
import { JSON_OPTION, num, oneOf, SEARCH_MODEL_OPTIONS, UsageError } from "../options";
import { runIndex, runSearch } from "../search";
import { CliSession } from "../session";
import { terminalSafe } from "../terminal";

/** `hearth search`: a folder's best chunks for a query (indexing it first when it has no index). */
export const searchCommand = defineCommand({
  name: "search",
  usage:
    '<dir> "<query>" [--top N] [--mode lexical|vector|hybrid] [--rerank-model <m>] [--no-rerank] [--json]\n<dir> --queries <file.jsonl> [same flags] --json',
  summary: "the best chunks of a folder for a query, with every score",
  description: `Best chunks for a query, with every score (lexical, vector, fused, rerank). Indexes the folder first if
it has no index yet. --json prints [{path, startLine, endLine, symbol, score, scores, text}]; --queries reads one
{"q": "..."} per line and prints one {"q", "hits"} line per query.`,
  options: {
    top: { type: "string", arg: "<n>", help: `hits to print (default ${settingDefault("search.topK")})` },
    mode: {
      type: "string",
      arg: "<m>",
      help: "lexical | vector | hybrid (default hybrid with an embedding model, else lexical)",
    },
    queries: { type: "string", arg: "<file.jsonl>", help: 'one {"q": "..."} per line; one JSON line out per query' },
    "rerank-model": SEARCH_MODEL_OPTIONS["rerank-model"],
    "rerank-engine-url": SEARCH_MODEL_OPTIONS["rerank-engine-url"],
    "no-rerank": { type: "boolean", help: "do not rerank even with --rerank-model" },
    fusion: {
      type: "string",
      arg: "<f>",
      help: `hybrid fusion: convex (weighted scores) | rrf (reciprocal rank) (default ${settingDefault("search.fusion")})`,
    },
    "vector-weight": {
      type: "string",
      arg: "<w>",
      help: `weight of the vector list in hybrid fusion, lexical's being 1 (default ${settingDefault("search.vectorWeight")})`,
    },
    "rerank-weight": {
      type: "string",
      arg: "<w>",
      help: `reranker's share 0..1 of the reranked order, the rest the search score's (default ${settingDefault("search.rerankWeight")})`,
    },
    "rerank-budget-ms": {
      type: "string",
      arg: "<ms>",
      help: `time the reranker may take; past it the candidates not scored keep the search order;\n0: no limit (default ${settingDefault("search.rerankBudgetMs")})`,
    },
    ...JSON_OPTION,
    ...INDEX_OPTIONS,
  },
  maxPositionals: 2,
  async run(values, [dir, query]) {
    if (!dir) throw new UsageError('search needs a folder: hearth search <dir> "<query>"');
    if (query === undefined && !values.queries)
      throw new UsageError('search needs a query: hearth search <dir> "<query>" (or --queries <file.jsonl>)');
    const mode = oneOf(values.mode, "mode", SEARCH_MODES);
    const fusion = oneOf(values.fusion, "fusion", FUSION_METHODS);
    const topK = num(values.top, "top", true) ?? settingDefault("search.topK");
    const vectorWeight = num(values["vector-weight"], "vector-weight");
    const rerankWeight = num(values["rerank-weight"], "rerank-weight");
    const rerankBudgetMs = num(values["rerank-budget-ms"], "rerank-budget-ms");
    const session = new CliSession(values, { oneShot: true });
    const options = indexOptions(session, values, dir);
    const { root, storageDir } = options;
    return session.run(async () => {
      await session.startWithSearchRoles({ rerank: !values["no-rerank"] });
      const status = await session.sidecar.request("index/status", { root, storageDir });
      // No index yet, or its last build was interrupted: (re)build first, so hits cover the whole folder. An
      // index that exists but cannot be written now (full disk, read-only, another writer) is still searched.
      if (!status.exists || values.force) await runIndex(session.sidecar, options);
      else if (!status.complete) {
        await runIndex(session.sidecar, options).catch((error: unknown) => {
          const e = HearthError.from(error);
          if (e.code !== ErrorCodes.IndexStorage && e.code !== ErrorCodes.IndexBusy) throw error;
          process.stderr.write(`${terminalSafe(e.userMessage)} Searching the index as it is.\n`);
        });
      }
      return await runSearch(session.sidecar, {
        root,
        storageDir,
        query,
        queriesFile: values.queries,
        topK,
        mode,
        vectorWeight,
        rerankWeight,
        rerankBudgetMs,
        fusion,
        rerank: values["no-rerank"] ? false : undefined,
        json: values.json ?? false,
      });
    });
  },
});
