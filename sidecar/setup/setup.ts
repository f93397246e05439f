/**
 * `setup/plan` and `model/download`: the catalog and the models already here turned into a plan for this machine,
 * and one verified download with progress.
 */
import fs from "node:fs/promises";
import os from "node:os";
import type { Llama } from "node-llama-cpp";
import { HearthError } from "../../shared/errors";
import { settingDefault } from "../../shared/settings";
import {
  DEFAULT_ENGINE_PORTS,
  ErrorCodes,
  type ModelDownloadParams,
  type ModelDownloadResult,
  type ModelRole,
  type PlanModel,
  type SetupPlan,
  type SetupPlanParams,
} from "../../shared/protocol";
import { discoverModels } from "../models/discoverModels";
import { discoverEngines } from "../engines/remote/detect";
import { resolveModel, sha256File, type DownloadProgress } from "../models/resolveModel";
import { loadCatalog, type CatalogModel } from "./catalog";
import { estimateFromHeader, estimateFromParameters, type ModelEstimate } from "../models/estimate";
import { memoryBudget, probeMachine } from "../engines/machine";
import { planRoles, type Candidate } from "./planner";

/** Context windows (tokens) the plan estimates per role: the settings' defaults. */
export function defaultContextSizes(): Record<ModelRole, number> {
  const search = 1024; // SEARCH_MODEL_CONTEXT_SIZE of the clients: a chunk and a query, with room.
  return {
    chat: settingDefault("contextSize"),
    completion: settingDefault("completion.contextSize"),
    embedding: search,
    rerank: search,
    nes: settingDefault("nes.contextSize"),
  };
}

/** Remote headers read at once while planning. */
const HEADER_CONCURRENCY = 4;
/** Local GGUFs considered at most (the largest of each role are kept by the planner anyway). */
const MAX_LOCAL_CANDIDATES = 32;

export interface SetupDeps {
  /** The embedded engine's backend; undefined when it cannot be created (the plan then assumes no GPU). */
  llama: () => Promise<Llama | undefined>;
  modelsDir: string;
  log: { info(message: string): void; warn(message: string): void };
}

/**
 * Plans the four roles for this machine (or the one `ramBytes` / `vramBytes` describe): reads the catalog, each
 * entry's GGUF header over HTTP (byte ranges, {@link HEADER_CONCURRENCY} at once) for node-llama-cpp's estimates,
 * the GGUFs already on this machine (classified by role from their headers), then {@link planRoles}.
 * @throws HearthError CatalogInvalid, Cancelled.
 */
export async function makePlan(params: SetupPlanParams, deps: SetupDeps, signal: AbortSignal): Promise<SetupPlan> {
  const { catalog, source } = await loadCatalog(params.catalog);
  const llama = await deps.llama();
  const machine = await probeMachine(llama, params);
  const contexts = { ...defaultContextSizes(), ...params.contextSizes };
  const unknownFacts: string[] = [];
  const catalogCandidates = await mapLimited(catalog.models, HEADER_CONCURRENCY, async (entry) => {
    if (signal.aborted) throw new HearthError(ErrorCodes.Cancelled, "Planning cancelled.");
    const roleContexts = Object.fromEntries(entry.roles.map((r) => [r, contexts[r]]));
    let estimate: ModelEstimate | undefined;
    try {
      estimate = await estimateFromHeader(entry.uri, roleContexts, llama, signal);
    } catch (error) {
      deps.log.warn(
        `Could not read the GGUF header of ${entry.uri}: ${error instanceof Error ? error.message : String(error)}`,
      );
      estimate = estimateFromParameters(entry.parameters, entry.quantization, entry.roles);
    }
    if (!estimate) {
      unknownFacts.push(`${entry.id}: size (its header could not be read and the catalog has no parameter count)`);
      return undefined;
    }
    for (const fact of ["sha256", "license"] as const)
      if (entry[fact] === null && !(fact === "license" && estimate.header?.license))
        unknownFacts.push(`${entry.id}: ${fact}`);
    return catalogCandidate(entry, estimate);
  });
  const candidates = catalogCandidates.filter((c): c is Candidate => c !== undefined);
  if (params.includeLocal !== false) candidates.push(...(await localCandidates(params, deps, contexts, llama)));
  const engines =
    params.discoverEngines === false ? [] : await discoverEngines(params.enginePorts ?? DEFAULT_ENGINE_PORTS, signal);
  return planRoles({
    engines,
    machine,
    budget: memoryBudget(machine),
    candidates,
    contextSizes: contexts,
    catalog: { source, entries: catalog.models.length, unknownFacts },
  });
}

function catalogCandidate(entry: CatalogModel, estimate: ModelEstimate): Candidate {
  const header = estimate.header;
  const license = entry.license ?? header?.license;
  const trainedContext = entry.trainedContext ?? header?.trainedContext;
  const model: PlanModel = {
    id: entry.id,
    name: entry.name,
    uri: entry.uri,
    source: "catalog",
    ...(entry.sha256 ? { sha256: entry.sha256 } : {}),
    downloadBytes: entry.sizeBytes ?? header?.fileBytes ?? estimate.weightsBytes,
    ...(license ? { license } : {}),
    ...(trainedContext ? { trainedContext } : {}),
    ...(entry.fimTemplate ? { fimTemplate: entry.fimTemplate } : {}),
  };
  // A role the catalog names but the header contradicts (an embedding model with no pooling) is dropped.
  const roles = header ? entry.roles.filter((r) => header.roles.includes(r)) : entry.roles;
  return {
    model,
    roles,
    estimate,
    parameters: entry.parameters ?? header?.parameters ?? null,
    ...(entry.activeParameters ? { activeParameters: entry.activeParameters } : {}),
  };
}

async function localCandidates(
  params: SetupPlanParams,
  deps: SetupDeps,
  contexts: Record<ModelRole, number>,
  llama: Llama | undefined,
): Promise<Candidate[]> {
  const found = await discoverModels({
    home: params.home ?? os.homedir(),
    folders: params.folders ?? [],
    hearthModelsDir: deps.modelsDir,
    hfHome: process.env["HF_HOME"],
  });
  const usable = found.filter((m) => m.roles?.length).slice(0, MAX_LOCAL_CANDIDATES);
  const out = await mapLimited(usable, HEADER_CONCURRENCY, async (m) => {
    const roles = m.roles!;
    try {
      const estimate = await estimateFromHeader(m.path, Object.fromEntries(roles.map((r) => [r, contexts[r]])), llama);
      const candidate: Candidate = {
        model: {
          id: m.path,
          name: `${m.name} (${m.source === "folder" ? "imported" : m.source})`,
          uri: m.path,
          source: "local",
          downloadBytes: 0,
          ...(estimate.header?.license ? { license: estimate.header.license } : {}),
          ...(estimate.header?.trainedContext ? { trainedContext: estimate.header.trainedContext } : {}),
        },
        roles,
        estimate,
        parameters: estimate.header?.parameters ?? null,
      };
      return candidate;
    } catch (error) {
      deps.log.warn(`Skipping ${m.path} in the plan: ${error instanceof Error ? error.message : String(error)}`);
      return undefined;
    }
  });
  return out.filter((c): c is Candidate => c !== undefined);
}

/** `items` mapped by `fn`, at most `limit` at once, in order. */
async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Room kept free on the disk after a download (bytes): a full disk breaks more than Hearth. */
const DISK_HEADROOM = 256 * 1024 * 1024;

/**
 * Downloads one model file into the models folder (no load): the disk is checked for room first when the size is
 * known (given, or the `Content-Length` / `x-linked-size` the server reports), progress goes to `onProgress`, an
 * interrupted download resumes where it stopped (node-llama-cpp's downloader keeps the partial file), and the file
 * is verified against the given sha256 or, for an `hf:` file, the sha256 the hub reports (`x-linked-etag`); a
 * mismatch deletes the file.
 * @throws HearthError DiskFull, DownloadFailed, ChecksumMismatch, Cancelled, ModelCorrupt.
 */
export async function downloadModel(
  params: ModelDownloadParams,
  deps: SetupDeps,
  onProgress: (progress: DownloadProgress) => void,
  signal: AbortSignal,
): Promise<ModelDownloadResult> {
  await fs.mkdir(deps.modelsDir, { recursive: true });
  const remote = await remoteFacts(params.uri, signal);
  const size = params.sizeBytes ?? remote.sizeBytes;
  if (size !== undefined) await checkDiskRoom(deps.modelsDir, size);
  const expected = params.sha256 ?? remote.sha256;
  const filePath = await resolveModel(
    { uri: params.uri, ...(expected ? { sha256: expected } : {}) },
    { modelsDir: deps.modelsDir, allowDownload: true, onProgress, signal, keepPartial: true },
  );
  const stat = await fs.stat(filePath);
  return {
    path: filePath,
    sizeBytes: stat.size,
    sha256: expected ?? (await sha256File(filePath)),
    verifiedAgainst: params.sha256 ? "given" : remote.sha256 ? "hub" : "none",
  };
}

/**
 * @throws HearthError DiskFull when the folder's file system has less than `bytes` plus {@link DISK_HEADROOM} free.
 */
export async function checkDiskRoom(dir: string, bytes: number): Promise<void> {
  const stats = await fs.statfs(dir);
  const free = stats.bavail * stats.bsize;
  if (free < bytes + DISK_HEADROOM) {
    const mib = (n: number) => `${Math.ceil(n / 1024 / 1024).toLocaleString("en")} MiB`;
    throw new HearthError(
      ErrorCodes.DiskFull,
      `Not enough disk space in ${dir}: the download needs ${mib(bytes)} (and ${mib(DISK_HEADROOM)} to spare), ${mib(free)} is free.`,
      "Free some space there, or (CLI) download into another folder with --models-dir or $HEARTH_MODELS_DIR.",
    );
  }
}

/** The hub endpoint `hf:` URIs resolve against: `$HF_ENDPOINT` (as node-llama-cpp reads it) or huggingface.co. */
function hubEndpoint(): string {
  return (process.env["HF_ENDPOINT"] || process.env["MODEL_ENDPOINT"] || "https://huggingface.co").replace(/\/+$/, "");
}

/**
 * What the server says of a file before it is fetched: its size and, for an `hf:<org>/<repo>/<file>` URI, the LFS
 * sha256 the hub reports for the main branch (`x-linked-etag`, `x-linked-size` on a HEAD of the resolve URL, not
 * following the redirect to the CDN). A server that cannot be reached, or says the file is not there (404 / 410),
 * fails the download at once instead of after the downloader's retries.
 * @throws HearthError DownloadFailed (unreachable within 10 s, or no such file), Cancelled.
 */
async function remoteFacts(uri: string, signal: AbortSignal): Promise<{ sizeBytes?: number; sha256?: string }> {
  let url: string | undefined;
  const hf = /^(?:hf|huggingface):([^/:#]+)\/([^/:#]+)\/([^:#]+\.gguf)$/i.exec(uri);
  if (hf)
    url = `${hubEndpoint()}/${hf[1]}/${hf[2]}/resolve/main/${hf[3]!.split("/").map(encodeURIComponent).join("/")}`;
  else if (/^https?:\/\//i.test(uri)) url = uri;
  if (!url) return {};
  const failed = (why: string) =>
    new HearthError(
      ErrorCodes.DownloadFailed,
      `Download of ${uri} failed: ${why}.`,
      hf
        ? "Check the network connection (or the HF_ENDPOINT mirror) and the model URI."
        : "Check the network connection and the URL.",
    );
  let response: Response;
  try {
    response = await fetch(url, {
      method: "HEAD",
      redirect: "manual",
      signal: AbortSignal.any([signal, AbortSignal.timeout(10_000)]),
    });
  } catch (error) {
    if (signal.aborted) throw new HearthError(ErrorCodes.Cancelled, "Model download cancelled.");
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    const name = (error as Error).name;
    throw failed(
      `${new URL(url).host} cannot be reached (${name === "TimeoutError" ? "no answer in 10 s" : (cause ?? name)})`,
    );
  }
  if (response.status === 404 || response.status === 410)
    throw failed(`the server has no such file (HTTP ${response.status})`);
  if (response.status === 401 || response.status === 403)
    throw failed(`the server refused access (HTTP ${response.status}; a gated model needs a token)`);
  const size = Number(
    response.headers.get("x-linked-size") ?? (response.ok ? response.headers.get("content-length") : ""),
  );
  const etag = response.headers.get("x-linked-etag")?.replace(/^W\//, "").replace(/"/g, "").toLowerCase();
  return {
    ...(Number.isSafeInteger(size) && size > 0 ? { sizeBytes: size } : {}),
    ...(hf && etag && /^[0-9a-f]{64}$/.test(etag) ? { sha256: etag } : {}),
  };
}
