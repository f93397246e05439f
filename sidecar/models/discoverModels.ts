import fs from "node:fs/promises";
import path from "node:path";
import type { DiscoveredModel } from "../../shared/protocol";
import { modelRoles } from "./classifyModel";
import { inspectGguf } from "./resolveModel";

/** Files whose headers a listing reads at most (each takes a few milliseconds; a huge collection stays quick). */
const MAX_CLASSIFIED = 64;

/**
 * Lists GGUF files already on disk, without downloading anything. Looks in:
 * - the given folders (recursively, depth ≤ 4);
 * - Ollama's store: `~/.ollama/models/manifests/<registry>/<namespace>/<model>/<tag>` JSON manifests whose layer
 *   of media type `application/vnd.ollama.image.model` names a blob `blobs/sha256-<hex>` (a GGUF);
 * - LM Studio's folders: `~/.lmstudio/models` and `~/.cache/lm-studio/models` (`<publisher>/<repo>/<file>.gguf`);
 * - the Hugging Face hub cache: `$HF_HOME/hub` or `~/.cache/huggingface/hub`,
 *   `models--<org>--<name>/snapshots/<rev>/**.gguf`.
 *
 * Each file's GGUF header says which roles it can serve (`modelRoles`). Unreadable folders and headers are skipped
 * silently: discovery is a convenience and must never fail the caller.
 * Results are de-duplicated by real path and sorted by name.
 *
 * @param home the home directory to look under (tests pass a temp dir).
 */
export async function discoverModels(options: {
  home: string;
  folders?: string[];
  hearthModelsDir?: string;
  hfHome?: string;
}): Promise<DiscoveredModel[]> {
  const { home } = options;
  const found: DiscoveredModel[] = [];
  for (const folder of options.folders ?? []) found.push(...(await scanFolder(folder, "folder")));
  if (options.hearthModelsDir) found.push(...(await scanFolder(options.hearthModelsDir, "hearth")));
  found.push(...(await scanOllama(path.join(home, ".ollama", "models"))));
  for (const dir of [path.join(home, ".lmstudio", "models"), path.join(home, ".cache", "lm-studio", "models")]) {
    found.push(...(await scanFolder(dir, "lmstudio")));
  }
  const hfHub = options.hfHome ? path.join(options.hfHome, "hub") : path.join(home, ".cache", "huggingface", "hub");
  found.push(...(await scanHuggingFace(hfHub)));

  const seen = new Set<string>();
  const unique: DiscoveredModel[] = [];
  for (const model of found) {
    const real = await fs.realpath(model.path).catch(() => model.path);
    if (seen.has(real)) continue;
    seen.add(real);
    unique.push(model);
  }
  // Each file's roles from its header (checked first: a hostile header is not walked); one at a time, and a file
  // whose header cannot be read keeps no roles rather than failing the listing.
  for (const model of unique.slice(0, MAX_CLASSIFIED)) {
    const info = await inspectGguf(model.path).catch(() => undefined);
    if (info) model.roles = modelRoles(info);
  }
  return unique.sort((a, b) => a.name.localeCompare(b.name));
}

async function readdirSafe(dir: string) {
  return fs.readdir(dir, { withFileTypes: true }).catch(() => []);
}

async function sizeOf(file: string): Promise<number> {
  return (await fs.stat(file).catch(() => undefined))?.size ?? 0;
}

async function scanFolder(root: string, source: DiscoveredModel["source"], depth = 4): Promise<DiscoveredModel[]> {
  const out: DiscoveredModel[] = [];
  for (const entry of await readdirSafe(root)) {
    const full = path.join(root, entry.name);
    if (entry.isDirectory() && depth > 0) out.push(...(await scanFolder(full, source, depth - 1)));
    else if ((entry.isFile() || entry.isSymbolicLink()) && entry.name.toLowerCase().endsWith(".gguf")) {
      // Split models ("-00002-of-00003.gguf") are loaded through their first part only.
      if (/-0000[2-9]-of-\d+\.gguf$/i.test(entry.name)) continue;
      out.push({ path: full, name: entry.name, source, sizeBytes: await sizeOf(full) });
    }
  }
  return out;
}

async function scanOllama(modelsRoot: string): Promise<DiscoveredModel[]> {
  const out: DiscoveredModel[] = [];
  const manifestsRoot = path.join(modelsRoot, "manifests");
  for (const registry of await readdirSafe(manifestsRoot)) {
    for (const namespace of await readdirSafe(path.join(manifestsRoot, registry.name))) {
      for (const model of await readdirSafe(path.join(manifestsRoot, registry.name, namespace.name))) {
        const modelDir = path.join(manifestsRoot, registry.name, namespace.name, model.name);
        for (const tag of await readdirSafe(modelDir)) {
          if (!tag.isFile()) continue;
          try {
            const manifest = JSON.parse(await fs.readFile(path.join(modelDir, tag.name), "utf8")) as {
              layers?: { mediaType?: string; digest?: string }[];
            };
            const layer = manifest.layers?.find((l) => l.mediaType === "application/vnd.ollama.image.model");
            if (!layer?.digest) continue;
            const blob = path.join(modelsRoot, "blobs", layer.digest.replace(":", "-"));
            const sizeBytes = await sizeOf(blob);
            if (sizeBytes === 0) continue;
            const prefix = namespace.name === "library" ? "" : `${namespace.name}/`;
            out.push({ path: blob, name: `${prefix}${model.name}:${tag.name}`, source: "ollama", sizeBytes });
          } catch {
            // A manifest we cannot parse is not a model we can offer.
          }
        }
      }
    }
  }
  return out;
}

async function scanHuggingFace(hubRoot: string): Promise<DiscoveredModel[]> {
  const out: DiscoveredModel[] = [];
  for (const repo of await readdirSafe(hubRoot)) {
    if (!repo.isDirectory() || !repo.name.startsWith("models--")) continue;
    const repoName = repo.name.slice("models--".length).split("--").join("/");
    const files = await scanFolder(path.join(hubRoot, repo.name, "snapshots"), "huggingface");
    for (const file of files) out.push({ ...file, name: `${repoName}/${file.name}` });
  }
  return out;
}
