/**
 * First run, end to end through the real CLI and sidecar: a loopback host serves a catalog and its GGUFs the way the
 * Hugging Face hub does (test/setup/catalogServer.ts); `hearth setup` plans, downloads through node-llama-cpp's
 * real downloader, verifies, smoke-tests each role and writes the config file the other commands read.
 * The models are real: stories260K (chat) and the lab's tiny trained FIM, embedding and reranker models.
 */
import fs from "node:fs/promises";
import { existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hearth } from "../cli/hearth";
import { errorOf, spawnSidecar } from "../sidecar/helpers";
import { labModel, testModel } from "../testModels";
import { startCatalogHost, type CatalogHost, type HostedFile } from "./catalogServer";
import { fixtureCatalog } from "./fixtureCatalog";
import { ErrorCodes, type ModelProgressParams, type SetupPlan } from "../../shared/protocol";

let host: CatalogHost;
let work: string;
let files: Record<"chat" | "fim" | "embedding" | "rerank" | "tampered", HostedFile>;

beforeAll(async () => {
  work = await fs.mkdtemp(path.join(os.tmpdir(), "hearth-setup-"));
  files = {
    chat: { repo: "ggml-org/test-stories", name: "stories260K.gguf", source: await testModel("stories260K") },
    // Cut halfway on its first download: the downloader must resume it with a range request.
    fim: { repo: "hearth-lab/code-fim", name: "hearth-lab-code-fim.gguf", source: labModel("code"), cutOnce: true },
    embedding: { repo: "hearth-lab/embedding", name: "hearth-lab-embedding.gguf", source: labModel("embedding") },
    rerank: { repo: "hearth-lab/reranker", name: "hearth-lab-reranker.gguf", source: labModel("reranker") },
    // The hub reports a sha256 the file does not have.
    tampered: {
      repo: "hearth-lab/tampered",
      name: "tampered.gguf",
      source: labModel("embedding"),
      reportedSha256: "0".repeat(64),
    },
  };
  host = await startCatalogHost(Object.values(files), (h) => {
    const at = (f: HostedFile) => ({ file: f.source, uri: h.uri(f) });
    return fixtureCatalog([
      { id: "stories-260k", role: "chat", ...at(files.chat), parameters: 292_800 },
      // No sha256 in the catalog: verified against the hub's x-linked-etag.
      { id: "lab-code-fim", role: "completion", ...at(files.fim), parameters: 1_300_000, sha256: false },
      { id: "lab-embedding", role: "embedding", ...at(files.embedding), parameters: 1_200_000 },
      { id: "lab-reranker", role: "rerank", ...at(files.rerank), parameters: 1_200_000 },
    ]);
  });
  // The sidecars this file spawns inherit it: hf: URIs resolve against the loopback host.
  process.env["HF_ENDPOINT"] = host.url;
}, 60_000);

afterAll(async () => {
  await host?.close();
  if (work) await fs.rm(work, { recursive: true, force: true });
});

describe("first run", () => {
  it("setup/plan reads each catalog file's GGUF header over HTTP (byte ranges) and plans every role", async () => {
    const { sidecar } = await spawnSidecar();
    try {
      const before = host.requests.length;
      const plan: SetupPlan = await sidecar.request("setup/plan", {
        catalog: `${host.url}/catalog.json`,
        ramBytes: 8 * 1024 ** 3,
        includeLocal: false,
      });
      expect(plan.roles.map((r) => [r.role, r.model?.id])).toEqual([
        ["chat", "stories-260k"],
        ["completion", "lab-code-fim"],
        ["embedding", "lab-embedding"],
        ["rerank", "lab-reranker"],
      ]);
      for (const r of plan.roles) {
        expect(r.estimate.source, r.role).toBe("gguf-header");
        expect(r.estimate.bytes, r.role).toBeGreaterThan(0);
        expect(r.verdict).toBe("fits");
      }
      expect(plan.problems).toEqual([]);
      // Headers only: every file request was a range, no file was fetched whole.
      const fileRequests = host.requests.slice(before).filter((q) => q.url.split("?")[0]!.endsWith(".gguf"));
      expect(fileRequests.length).toBeGreaterThan(0);
      expect(fileRequests.every((q) => q.range)).toBe(true);
      expect(plan.catalog.unknownFacts).toContain("lab-code-fim: sha256");
    } finally {
      await sidecar.stop();
    }
  });

  it("model/download: progress, a wrong sha256 refused and the file deleted, a hub mismatch too, no room refused before any byte", async () => {
    const { sidecar, modelsDir } = await spawnSidecar();
    try {
      const progress: ModelProgressParams[] = [];
      sidecar.onNotification("model/progress", (p) => progress.push(p));
      const ok = await sidecar.request("model/download", { uri: host.uri(files.embedding), progressId: "p1" });
      expect(ok.verifiedAgainst).toBe("hub");
      expect(ok.sha256).toBe(host.facts(files.embedding).sha256);
      expect(progress.filter((p) => p.progressId === "p1").at(-1)).toMatchObject({ fraction: 1 });

      const wrong = await errorOf(
        sidecar.request("model/download", { uri: host.uri(files.rerank), sha256: "f".repeat(64) }),
      );
      expect(wrong.code).toBe(ErrorCodes.ChecksumMismatch);
      expect(wrong.message).toMatch(/The downloaded file was deleted/);
      expect((await fs.readdir(modelsDir)).filter((f) => f.includes("reranker"))).toEqual([]);

      const tampered = await errorOf(sidecar.request("model/download", { uri: host.uri(files.tampered) }));
      expect(tampered.code).toBe(ErrorCodes.ChecksumMismatch);

      const before = host.requests.length;
      const full = await errorOf(sidecar.request("model/download", { uri: host.uri(files.chat), sizeBytes: 2 ** 45 }));
      expect(full.code).toBe(ErrorCodes.DiskFull);
      expect(full.message).toMatch(/Not enough disk space in .*: the download needs [\d,]+ MiB/);
      expect(host.requests.slice(before).filter((q) => q.method === "GET")).toEqual([]);
    } finally {
      await sidecar.stop();
    }
  });

  it("hearth setup --yes: downloads (resuming a cut one), verifies, tests each role, writes the config the other commands read", async () => {
    const home = path.join(work, "home");
    const env = {
      HOME: home,
      HF_ENDPOINT: host.url,
      HEARTH_CONFIG: path.join(home, "hearth.json"),
      HEARTH_MODELS_DIR: path.join(home, "models"),
    };
    const planOnly = await hearth(
      ["setup", "--plan", "--json", "--catalog", `${host.url}/catalog.json`, "--ram-gib", "8"],
      "",
      { env },
    );
    expect(planOnly.code, planOnly.stderr).toBe(0);
    const plan = JSON.parse(planOnly.stdout) as SetupPlan;
    expect(plan.roles.map((r) => r.role)).toEqual(["chat", "completion", "embedding", "rerank"]);
    expect(plan.roles.every((r) => r.estimate.bytes > 0 && r.model)).toBe(true);
    expect(existsSync(env.HEARTH_CONFIG)).toBe(false);

    const run = await hearth(
      ["setup", "--yes", "--json", "--catalog", `${host.url}/catalog.json`, "--threads", "1"],
      "",
      {
        env,
      },
    );
    expect(run.code, run.stderr + run.stdout).toBe(0);
    const result = JSON.parse(run.stdout) as {
      checks: Array<{ role: string; ok: boolean; line: string }>;
      models: Record<string, string>;
    };
    expect(result.checks.map((c) => [c.role, c.ok])).toEqual([
      ["chat", true],
      ["completion", true],
      ["embedding", true],
      ["rerank", true],
    ]);
    // The FIM file was cut halfway once; the downloader went on with a range request for the rest.
    const fimGets = host.requests.filter((q) => q.method === "GET" && q.url.split("?")[0]!.endsWith(files.fim.name));
    expect(fimGets.some((q) => q.range && !/^bytes=0-/.test(q.range))).toBe(true);
    const config = JSON.parse(await fs.readFile(env.HEARTH_CONFIG, "utf8")) as { models: Record<string, string> };
    expect(Object.keys(config.models).sort()).toEqual(["chat", "completion", "embedding", "rerank"]);
    for (const file of Object.values(config.models)) expect(existsSync(file)).toBe(true);

    const shown = await hearth(["config", "--json"], "", { env });
    const values = (JSON.parse(shown.stdout) as { values: Array<{ key: string; value: string; source: string }> })
      .values;
    expect(values.find((v) => v.key === "models.completion")).toMatchObject({
      value: config.models["completion"],
      source: env.HEARTH_CONFIG,
    });

    // A command with no --model now uses the configured FIM model.
    const src = path.join(work, "a.py");
    await fs.writeFile(src, "def add(a, b):\n    return \n");
    const complete = await hearth(
      ["complete", src, "--line", "2", "--column", "12", "--max-tokens", "4", "--threads", "1", "--json"],
      "",
      { env },
    );
    expect(complete.code, complete.stderr).toBe(0);
    expect(JSON.parse(complete.stdout)).toHaveProperty("suggestion");
    // The doctor checks the configured roles without flags.
    const doctor = await hearth(["doctor", "--threads", "1"], "", { env });
    expect(doctor.code, doctor.stdout + doctor.stderr).toBe(0);
    expect(doctor.stdout.split("\n").filter((l) => /works:/.test(l))).toHaveLength(4);
  }, 180_000);
});
