import { promises as fs } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import path from "node:path";
import { ErrorCodes } from "../../shared/protocol";
import { HearthError } from "../../shared/errors";

/**
 * Byte sizes of GGUF metadata value types, by type id (GGUF spec, ggml/docs/gguf.md); `undefined` for the
 * variable-size ones: 8 = string (u64 length + bytes), 9 = array (u32 item type, u64 count, items).
 */
const FIXED_SIZE: Record<number, number | undefined> = {
  0: 1,
  1: 1,
  2: 2,
  3: 2,
  4: 4,
  5: 4,
  6: 4,
  7: 1,
  10: 8,
  11: 8,
  12: 8,
};
const STRING = 8;
const ARRAY = 9;
/** The least bytes a metadata pair takes: an empty key (u64 length), the type (u32), a one-byte value. */
const MIN_KV_BYTES = 13;
/** The least bytes a tensor info takes: an empty name (u64), n_dims (u32), type (u32), offset (u64). */
const MIN_TENSOR_INFO_BYTES = 24;
/** The GGUF spec's limit on a metadata key's length (keys are read as text, so the limit bounds memory too). */
const MAX_KEY_BYTES = 65_535;
/** ggml's GGML_MAX_DIMS. */
const MAX_DIMS = 4;
const WINDOW = 1 << 20;

/** Sequential little-endian reads of a file through a 1 MiB window, never past the end of the file. */
class BoundedReader {
  private window = Buffer.alloc(0);
  private windowStart = 0;
  pos = 0;

  constructor(
    private readonly handle: FileHandle,
    readonly size: number,
    private readonly fail: (reason: string) => never,
  ) {}

  get remaining(): number {
    return this.size - this.pos;
  }

  private async bytes(n: number, what: string): Promise<Buffer> {
    if (n > this.remaining) this.fail(`${what} runs past the end of the file (byte ${this.pos} + ${n} > ${this.size})`);
    const end = this.pos + n;
    if (this.pos < this.windowStart || end > this.windowStart + this.window.length) {
      const length = Math.min(Math.max(n, WINDOW), this.size - this.pos);
      this.window = Buffer.alloc(length);
      await this.handle.read(this.window, 0, length, this.pos);
      this.windowStart = this.pos;
    }
    const slice = this.window.subarray(this.pos - this.windowStart, end - this.windowStart);
    this.pos = end;
    return slice;
  }

  async u32(what: string): Promise<number> {
    return (await this.bytes(4, what)).readUInt32LE(0);
  }

  async u64(what: string): Promise<bigint> {
    return (await this.bytes(8, what)).readBigUInt64LE(0);
  }

  /** Step over `n` bytes that must lie inside the file. */
  skip(n: bigint | number, what: string): void {
    if (BigInt(n) > BigInt(this.remaining)) this.fail(`${what} (${n} bytes) runs past the end of the file`);
    this.pos += Number(n);
  }

  /** A GGUF string: u64 length, then that many bytes (returned as text only when `keep`, at most `maxKept`). */
  async string(what: string, keep = false, maxKept = MAX_KEY_BYTES): Promise<string> {
    const length = await this.u64(`the length of ${what}`);
    if (length > BigInt(this.remaining)) this.fail(`${what} claims ${length} bytes, more than the file has left`);
    if (keep && length > BigInt(maxKept)) this.fail(`${what} is ${length} bytes long (at most ${maxKept})`);
    if (!keep) {
      this.skip(length, what);
      return "";
    }
    return (await this.bytes(Number(length), what)).toString("utf8");
  }
}

/**
 * A {@link HearthError} with code ModelCorrupt for a file that looks like GGUF but cannot be used.
 * @param hint what to do; by default, to download it again (a truncated or damaged copy).
 */
export function corrupt(
  filePath: string,
  reason: string,
  hint = "The file is probably truncated or corrupt: download it again.",
): HearthError {
  return new HearthError(ErrorCodes.ModelCorrupt, `${path.basename(filePath)} is not a usable GGUF: ${reason}.`, hint);
}

/**
 * Walks a GGUF file's header — version, counts, every metadata pair and tensor info — checking each count and
 * length against the bytes the file has left before anything reads that far, so that no header, however
 * hostile, makes a parser loop or allocate beyond the file: a count of 2^62 tensors in an 88-byte file is refused
 * at once. The walk reads each header byte once (a 1 MiB window), and checks `signal` every 4,096 items.
 *
 * Run it before node-llama-cpp's `readGgufFileInfo`, whose reader zero-fills reads past the end of the file.
 * @throws HearthError(ModelCorrupt) naming the first impossible field; HearthError(Cancelled) when aborted.
 */
export async function checkGgufHeader(filePath: string, signal?: AbortSignal): Promise<void> {
  const name = path.basename(filePath);
  const fail = (reason: string): never => {
    throw corrupt(filePath, reason);
  };
  let steps = 0;
  const tick = () => {
    if (++steps % 4096 === 0 && signal?.aborted) {
      throw new HearthError(ErrorCodes.Cancelled, `Reading ${name} was cancelled.`);
    }
  };
  const handle = await fs.open(filePath, "r");
  try {
    const { size } = await handle.stat();
    const r = new BoundedReader(handle, size, fail);
    r.skip(4, "the magic bytes");
    const version = await r.u32("the version");
    if (version !== 2 && version !== 3) fail(`GGUF version ${version} is not supported (only 2 and 3 are)`);
    const tensorCount = await r.u64("the tensor count");
    const kvCount = await r.u64("the metadata count");
    const least = tensorCount * BigInt(MIN_TENSOR_INFO_BYTES) + kvCount * BigInt(MIN_KV_BYTES);
    if (least > BigInt(r.remaining)) {
      fail(
        `the header claims ${tensorCount} tensors and ${kvCount} metadata entries, more than ${size} bytes can hold`,
      );
    }

    const value = async (type: number, key: string, depth: number): Promise<void> => {
      tick();
      const fixed = FIXED_SIZE[type];
      if (fixed !== undefined) return r.skip(fixed, `the value of ${key}`);
      if (type === STRING) {
        await r.string(`the value of ${key}`);
        return;
      }
      if (type !== ARRAY) return fail(`${key} has an unknown value type ${type}`);
      if (depth > 2) return fail(`${key} nests arrays too deep`);
      const itemType = await r.u32(`the item type of ${key}`);
      const count = await r.u64(`the length of ${key}`);
      const itemFixed = FIXED_SIZE[itemType];
      const leastItem = itemFixed ?? (itemType === STRING ? 8 : itemType === ARRAY ? 12 : 1);
      if (count * BigInt(leastItem) > BigInt(r.remaining)) {
        fail(`${key} claims ${count} items, more than the file has left`);
      }
      if (itemFixed !== undefined) return r.skip(count * BigInt(itemFixed), `the items of ${key}`);
      for (let i = 0n; i < count; i++) await value(itemType, key, depth + 1);
    };

    for (let i = 0n; i < kvCount; i++) {
      const key = await r.string(`metadata key ${i}`, true);
      await value(await r.u32(`the type of ${key}`), key || `metadata key ${i}`, 0);
    }
    let lastOffset = -1n;
    for (let i = 0n; i < tensorCount; i++) {
      tick();
      await r.string(`the name of tensor ${i}`);
      const dims = await r.u32(`the dimension count of tensor ${i}`);
      if (dims > MAX_DIMS) fail(`tensor ${i} claims ${dims} dimensions (at most ${MAX_DIMS})`);
      r.skip(dims * 8 + 4, `the shape and type of tensor ${i}`);
      const offset = await r.u64(`the data offset of tensor ${i}`);
      if (offset > lastOffset) lastOffset = offset;
    }
    // Offsets count from the data section, which starts after the header (aligned, so at or after r.pos).
    if (lastOffset >= BigInt(r.remaining)) {
      fail(`the file is truncated (${size} bytes, tensor data expected past byte ${BigInt(r.pos) + lastOffset})`);
    }
  } finally {
    await handle.close();
  }
}
