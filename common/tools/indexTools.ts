/**
 * Tools about the index itself: `index_status` and `reindex`. Defined once (see `definition.ts`); `hearth mcp`
 * offers both, VS Code's LM tools `index_status` (as `hearth_indexStatus`).
 */
import type { ToolDefinition } from "./definition";

/** A tool that takes no arguments. */
const noArguments = (): ToolDefinition["parameters"] => ({ type: "object", properties: {}, required: [] });

/** `index_status`: whether the workspace has an index, its files and chunks, and its embedding model. */
export const INDEX_STATUS: ToolDefinition = {
  name: "index_status",
  title: "Index status",
  description: "Whether the workspace has an index, how many files and chunks it holds, and its embedding model.",
  parameters: noArguments(),
  permission: "search",
  readOnly: true,
  async run(_args, ctx) {
    const s = await ctx.api.request("index/status", ctx.target, ctx.signal);
    return { text: JSON.stringify({ root: ctx.target.root, ...s }), data: { ...s } };
  },
};

/** `reindex`: bring the index up to date with the files on disk. */
export const REINDEX: ToolDefinition = {
  name: "reindex",
  title: "Update the index",
  description: "Bring the index up to date with the files on disk (unchanged files are not embedded again).",
  parameters: noArguments(),
  permission: "search",
  readOnly: false,
  async run(_args, ctx) {
    const r = await ctx.api.request("index/build", ctx.target, ctx.signal);
    const summary = {
      files: r.files,
      chunks: r.chunks,
      indexedFiles: r.indexedFiles,
      unchangedFiles: r.unchangedFiles,
      removedFiles: r.removedFiles,
      skipped: r.skipped.length,
    };
    return { text: JSON.stringify(summary), data: summary };
  },
};
