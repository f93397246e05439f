import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { resolveModelFile, readGgufFileInfo, type GgufFileInfo } from "node-llama-cpp";
import { checkGgufHeader, corrupt } from "./ggufHeader";
import { hyperparameterProblem } from "./hyperparameters";
import { HearthError } from "../../shared/errors";
import { ErrorCodes, type ModelSpec } from "../../shared/protocol";

/** Progress of a model download, in bytes. */
export interface DownloadProgress {
  downloadedBytes: number;
  totalBytes: number;
}

export interface ResolveOptions {
  /** Folder that `hf:` and URL models are downloaded into (created if missing). */
  modelsDir: string;
  /** false: a missing remote model is an error instead of a download. */
  allowDownload: boolean;
  onProgress?: (progress: DownloadProgress) => void;
  signal?: AbortSignal;
  /** Download attempts before giving up (a failed attempt deletes its partial file). Default 3. */
  attempts?: number;
  /**
   * An attempt that receives no new bytes for this long is abandoned (ms, default 30 000). The downloader
   * retries a dropped connection by itself with growing pauses, so without this a server that keeps cutting the
   * body short would hold the request forever.
   */
  stallTimeoutMs?: number;
  /**
   * Keep a failed or cancelled attempt's partial file, so the next attempt (or the next call) resumes it with a
   * range request instead of starting over. Default false: a failed attempt starts again from zero.
   */
  keepPartial?: boolean;
}

/** True for `hf:` URIs and http(s) URLs, which are downloaded; false for local paths. */
export function isRemoteModel(uri: string): boolean {
  return /^(hf:|huggingface:|https?:\/\/)/i.test(uri);
}

/** Expand `~` and make a local model path absolute (relative to the sidecar's working directory). */
export function expandLocalPath(uri: string): string {
  const expanded = uri === "~" || uri.startsWith("~/") ? path.join(os.homedir(), uri.slice(1)) : uri;
  return path.resolve(expanded);
}

/** Lower-case hex sha256 of a file, streamed. */
export async function sha256File(filePath: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(filePath)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/**
 * Turns a {@link ModelSpec} into a local GGUF path, downloading `hf:` URIs and URLs with node-llama-cpp's
 * `resolveModelFile` into `modelsDir`. A failed or truncated download is retried from scratch (the partial file is
 * removed first) up to `attempts` times. When `spec.sha256` is set the file's hash is checked, and a mismatching
 * file is deleted so that the next try downloads it again.
 *
 * @returns absolute path of the GGUF file.
 * @throws HearthError ModelNotFound (missing local file, or remote with downloads off), DownloadFailed,
 *   ChecksumMismatch, Cancelled (signal aborted).
 */
const MODEL_PATH_HINT = "Check the model path (the 'hearth.models.*' settings, /model, or --model).";

/**
 * That `filePath` is a regular file (after links), or an error naming what it is instead: missing, a folder
 * (with the GGUF files in it, when there are some), a link to nothing, a loop of links, unreadable.
 * @throws HearthError ModelNotFound.
 */
async function checkLocalModelPath(filePath: string): Promise<void> {
  let stat;
  try {
    stat = await fs.stat(filePath);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const link = await fs.readlink(filePath).catch(() => undefined);
    const what =
      code === "ELOOP"
        ? `${filePath} is a loop of symbolic links`
        : link !== undefined
          ? `${filePath} is a symbolic link to ${link}, which does not exist`
          : code === "EACCES" || code === "EPERM"
            ? `${filePath} cannot be read (permission denied)`
            : code === "ENOTDIR"
              ? `Model file not found: a part of ${filePath} is a file, not a folder`
              : `Model file not found: ${filePath}`;
    throw new HearthError(ErrorCodes.ModelNotFound, `${what}.`, MODEL_PATH_HINT);
  }
  if (stat.isDirectory()) {
    const ggufs = (await fs.readdir(filePath).catch(() => [] as string[])).filter((f) => f.endsWith(".gguf"));
    throw new HearthError(
      ErrorCodes.ModelNotFound,
      `${filePath} is a folder, not a model file.`,
      ggufs.length
        ? `Name one of the GGUF files in it: ${ggufs.slice(0, 5).join(", ")}${ggufs.length > 5 ? ", …" : ""}.`
        : `It holds no .gguf file. ${MODEL_PATH_HINT}`,
    );
  }
  if (!stat.isFile()) {
    throw new HearthError(
      ErrorCodes.ModelNotFound,
      `${filePath} is not a regular file (a device, FIFO or socket).`,
      MODEL_PATH_HINT,
    );
  }
}

export async function resolveModel(spec: ModelSpec, options: ResolveOptions): Promise<string> {
  let filePath: string;
  if (isRemoteModel(spec.uri)) {
    filePath = await download(spec.uri, options);
  } else {
    filePath = expandLocalPath(spec.uri);
    await checkLocalModelPath(filePath);
  }
  if (spec.sha256) {
    const actual = await sha256File(filePath);
    if (actual !== spec.sha256) {
      if (isRemoteModel(spec.uri)) await fs.rm(filePath, { force: true });
      throw new HearthError(
        ErrorCodes.ChecksumMismatch,
        `Checksum mismatch for ${path.basename(filePath)}: expected sha256 ${spec.sha256}, got ${actual}.` +
          (isRemoteModel(spec.uri) ? " The downloaded file was deleted." : ""),
        "The file on the server changed or the download was corrupted; check the pinned sha256 or try again.",
      );
    }
  }
  return filePath;
}

async function download(uri: string, options: ResolveOptions): Promise<string> {
  await fs.mkdir(options.modelsDir, { recursive: true });
  const attempts = Math.max(1, options.attempts ?? 3);
  let lastError: unknown;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    if (options.signal?.aborted) throw cancelled();
    const attempt = new AbortController();
    const onAbort = () => attempt.abort();
    options.signal?.addEventListener("abort", onAbort, { once: true });
    const stallMs = options.stallTimeoutMs ?? 30_000;
    let stalled = false;
    let mostBytes = -1;
    let watchdog: NodeJS.Timeout | undefined;
    const armWatchdog = () => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => {
        stalled = true;
        attempt.abort();
      }, stallMs);
    };
    armWatchdog();
    try {
      const filePath = await resolveModelFile(uri, {
        directory: options.modelsDir,
        download: options.allowDownload ? "auto" : false,
        verify: false,
        cli: false,
        signal: attempt.signal,
        deleteTempFileOnCancel: !options.keepPartial,
        onProgress: ({ totalSize, downloadedSize }) => {
          if (downloadedSize > mostBytes) {
            mostBytes = downloadedSize;
            armWatchdog();
          }
          options.onProgress?.({ totalBytes: totalSize, downloadedBytes: downloadedSize });
        },
      });
      if (stalled) throw new Error(`no data for ${stallMs} ms`);
      try {
        await inspectGguf(filePath, options.signal);
      } catch (error) {
        // A cut-short body can pass the downloader's own checks; delete it so the next attempt starts clean.
        if (error instanceof HearthError && error.code === ErrorCodes.ModelCorrupt)
          await fs.rm(filePath, { force: true });
        throw error;
      }
      return filePath;
    } catch (error) {
      if (options.signal?.aborted) throw cancelled();
      if (error instanceof HearthError && error.code !== ErrorCodes.ModelCorrupt) throw error;
      lastError = stalled ? new Error(`the download stalled (no data for ${stallMs} ms)`) : error;
      if (!options.allowDownload) {
        throw new HearthError(
          ErrorCodes.ModelNotFound,
          `Model ${uri} is not downloaded and downloads are turned off.`,
          "Allow downloads, or point the setting at a local .gguf file.",
        );
      }
      // Clean retry: remove whatever a failed attempt left so the next one starts from zero (unless resuming).
      if (!options.keepPartial || (error instanceof HearthError && error.code === ErrorCodes.ModelCorrupt))
        await removeDownloadLeftovers(uri, options.modelsDir);
    } finally {
      clearTimeout(watchdog);
      options.signal?.removeEventListener("abort", onAbort);
    }
  }
  const message = lastError instanceof Error ? lastError.message : String(lastError);
  throw new HearthError(
    ErrorCodes.DownloadFailed,
    `Download of ${uri} failed after ${attempts} attempts: ${message}`,
    "Check the network connection and the model URI, then try again.",
  );
}

function cancelled(): HearthError {
  return new HearthError(ErrorCodes.Cancelled, "Model download cancelled.");
}

/** The file name node-llama-cpp gives a URL download (its last path segment). */
function urlFileName(uri: string): string | undefined {
  if (!/^https?:/i.test(uri)) return undefined;
  return decodeURIComponent(new URL(uri).pathname.split("/").pop() ?? "") || undefined;
}

async function removeDownloadLeftovers(uri: string, dir: string): Promise<void> {
  const name = urlFileName(uri);
  if (!name) return;
  const entries = await fs.readdir(dir).catch(() => [] as string[]);
  await Promise.all(
    entries.filter((e) => e.startsWith(name)).map((e) => fs.rm(path.join(dir, e), { force: true, recursive: true })),
  );
}

/**
 * Reads a GGUF's header and tensor table and checks that the file is a GGUF and is not cut short.
 *
 * @param signal aborts the header walk (a hostile header is refused without being walked, see {@link checkGgufHeader}).
 * @throws HearthError ModelNotGguf (bad magic bytes), ModelCorrupt (unreadable header, a count or length the file
 *   cannot hold, tensor data past EOF), Cancelled.
 */
export async function inspectGguf(filePath: string, signal?: AbortSignal): Promise<GgufFileInfo> {
  const handle = await fs.open(filePath, "r");
  try {
    const magic = Buffer.alloc(4);
    const { bytesRead } = await handle.read(magic, 0, 4, 0);
    if (bytesRead < 4 || magic.toString("latin1") !== "GGUF") {
      throw new HearthError(
        ErrorCodes.ModelNotGguf,
        `${path.basename(filePath)} is not a GGUF model file (it does not start with the GGUF magic bytes).`,
        "Pick a .gguf model file; other formats (safetensors, .bin) must be converted to GGUF first.",
      );
    }
  } finally {
    await handle.close();
  }
  // Every count and length in the header checked against the file's size first: node-llama-cpp's reader
  // zero-fills reads past the end, so an impossible count would make it loop and allocate without bound.
  await checkGgufHeader(filePath, signal);
  let info: GgufFileInfo;
  try {
    info = await readGgufFileInfo(filePath, { logWarnings: false, ...(signal ? { signal } : {}) });
  } catch (error) {
    // The parser's own failures (RangeError, BigInt mixing) are not a reason a user can act on: say what it
    // means, keep the detail short.
    const message = error instanceof Error ? error.message : String(error);
    throw corrupt(
      filePath,
      error instanceof RangeError || error instanceof TypeError || /BigInt/.test(message)
        ? "its header cannot be parsed"
        : message.split("\n")[0]!.slice(0, 160),
    );
  }
  if (!info.metadata?.general?.architecture) throw corrupt(filePath, "the header has no general.architecture");
  await checkTensorsInsideFile(filePath, info);
  const problem = hyperparameterProblem(filePath, info);
  if (problem) throw problem;
  return info;
}

async function checkTensorsInsideFile(filePath: string, info: GgufFileInfo): Promise<void> {
  const { size } = await fs.stat(filePath);
  const tensors = info.fullTensorInfo ?? info.tensorInfo ?? [];
  if (tensors.length === 0) throw corrupt(filePath, "the header lists no tensors");
  const lastOffset = tensors.reduce((max, t) => Math.max(max, Number(t.fileOffset)), 0);
  if (lastOffset >= size) {
    throw corrupt(filePath, `the file is truncated (${size} bytes, tensor data expected past byte ${lastOffset})`);
  }
}
