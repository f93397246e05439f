import path from "node:path";
import { defaultIndexDir } from "../../common/search/format";
import { defineCommand } from "../command";
import {
  ENGINE_OPTIONS,
  INDEX_BUILD_OPTIONS,
  INDEX_DIR_OPTIONS,
  num,
  RUNTIME_OPTIONS,
  SEARCH_MODEL_OPTIONS,
  UsageError,
} from "../options";
import { runIndex, type IndexCliOptions } from "../search";
import { CliSession } from "../session";

/** The flags of `hearth index`, which `hearth search` takes too (it indexes a folder without an index first). */
export const INDEX_OPTIONS = {
  "embedding-model": SEARCH_MODEL_OPTIONS["embedding-model"],
  "embedding-engine-url": SEARCH_MODEL_OPTIONS["embedding-engine-url"],
  ...INDEX_DIR_OPTIONS,
  ...INDEX_BUILD_OPTIONS,
  "engine-kind": ENGINE_OPTIONS["engine-kind"],
  "engine-key-env": ENGINE_OPTIONS["engine-key-env"],
  ...RUNTIME_OPTIONS,
} as const;

/** The folder and index options of `hearth index` and `hearth search`. @throws UsageError on a bad number. */
export function indexOptions(
  session: CliSession,
  values: { "index-dir"?: string; force?: boolean; "max-file-bytes"?: string; "batch-size"?: string },
  dir: string,
): IndexCliOptions {
  const root = path.resolve(dir);
  return {
    root,
    storageDir: path.resolve(values["index-dir"] ?? defaultIndexDir(root)),
    verbose: session.verbose,
    tty: process.stderr.isTTY,
    force: values.force,
    maxFileBytes: num(values["max-file-bytes"], "max-file-bytes", true),
    batchSize: num(values["batch-size"], "batch-size", true),
  };
}

/** `hearth index`: build or update a folder's code index. */
export const indexCommand = defineCommand({
  name: "index",
  usage: "<dir> [--embedding-model <path|hf:uri>] [--verbose] [--force]",
  summary: "build or update the code index of a folder",
  description: `Build or update the code index of a folder (unchanged files are not re-embedded). Without an embedding
model the index is lexical only (BM25 over identifier-split terms).`,
  options: INDEX_OPTIONS,
  maxPositionals: 1,
  async run(values, [dir]) {
    if (!dir) throw new UsageError("index needs a folder: hearth index <dir>");
    const session = new CliSession(values, { oneShot: true });
    const options = indexOptions(session, values, dir);
    return session.run(async () => {
      await session.startWithSearchRoles();
      await runIndex(session.sidecar, options);
      return 0;
    });
  },
});
