import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SidecarProcess } from "../../common/sidecar/SidecarProcess";
import { MAX_QUERY_CHARS } from "../../sidecar/guards";
import { ErrorCodes, type IndexTarget, type SearchMode } from "../../sidecar/protocol";
import { errorOf, spawnSidecar } from "../sidecar/helpers";

describe("fault suite: queries that cannot be searched get a clear error", () => {
  let sidecar: SidecarProcess;
  let work: string;
  let target: IndexTarget;
  beforeAll(async () => {
    ({ sidecar } = await spawnSidecar());
    work = await fs.mkdtemp(path.join(os.tmpdir(), "hearth-faults-search-"));
    await fs.mkdir(path.join(work, "src"));
    await fs.writeFile(path.join(work, "src", "widgets.ts"), "export function frobnicateWidgets() {\n  return 1;\n}\n");
    target = { root: path.join(work, "src"), storageDir: path.join(work, "db") };
    await sidecar.request("index/build", target);
  });
  afterAll(async () => {
    await sidecar.stop();
    await fs.rm(work, { recursive: true, force: true });
  });

  it.each([
    ["an empty query", "lexical", ""],
    ["a blank query", "lexical", "   \n\t"],
    ["an empty query", "hybrid", ""],
    ["an empty query", "vector", ""],
    [`a query of ${MAX_QUERY_CHARS + 1} characters`, "lexical", "x".repeat(MAX_QUERY_CHARS + 1)],
  ] as Array<[string, SearchMode, string]>)(
    "%s in %s mode gets InvalidParams naming 'query'",
    async (_label, mode, query) => {
      const error = await errorOf(sidecar.request("index/search", { ...target, query, mode }));
      expect(error.code).toBe(ErrorCodes.InvalidParams);
      expect(error.message).toMatch(/'query' must be/);
    },
  );

  it("the sidecar still searches afterwards", async () => {
    const r = await sidecar.request("index/search", { ...target, query: "frobnicate widgets" });
    expect(r.hits[0]?.symbol).toBe("frobnicateWidgets");
  });
});
