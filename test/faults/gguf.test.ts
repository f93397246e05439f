import { readFileSync, writeFileSync } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SidecarProcess } from "../../common/sidecar/SidecarProcess";
import { checkGgufHeader } from "../../sidecar/models/ggufHeader";
import { ErrorCodes } from "../../shared/protocol";
import { LAB_MODEL_FILES } from "../../lab/ggufModels";
import { errorOf, spawnSidecar } from "../sidecar/helpers";
import { REPO_ROOT, testModel } from "../testModels";

/** Little-endian GGUF pieces for hand-made hostile headers. */
const u32 = (n: number) => Buffer.from(new Uint32Array([n]).buffer);
const u64 = (n: bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(n);
  return b;
};
const str = (s: string) => Buffer.concat([u64(BigInt(Buffer.byteLength(s))), Buffer.from(s)]);
/** A GGUF header: magic, version, tensor count, metadata count, then `body`; padded to `size` bytes. */
const gguf = (tensors: bigint, kvs: bigint, body: Buffer = Buffer.alloc(0), version = 3, size = 88) => {
  const b = Buffer.concat([Buffer.from("GGUF"), u32(version), u64(tensors), u64(kvs), body]);
  return b.length >= size ? b : Buffer.concat([b, Buffer.alloc(size - b.length)]);
};
const arch = Buffer.concat([str("general.architecture"), u32(8), str("llama")]);

/** Hostile or broken GGUFs, by what is wrong with them. Each must be refused with ModelCorrupt. */
const HOSTILE: Record<string, Buffer> = {
  "2^62 tensors in 88 bytes": gguf(1n << 62n, 0n),
  "2^62 metadata pairs in 88 bytes": gguf(0n, 1n << 62n),
  "2^64-1 tensors and pairs": gguf((1n << 64n) - 1n, (1n << 64n) - 1n),
  "an array of 2^28 bytes": gguf(0n, 1n, Buffer.concat([str("x.arr"), u32(9), u32(0), u64(1n << 28n)])),
  "an array of 2^40 strings": gguf(0n, 1n, Buffer.concat([str("x.arr"), u32(9), u32(8), u64(1n << 40n)])),
  "an array of 2^28 arrays": gguf(0n, 1n, Buffer.concat([str("x.arr"), u32(9), u32(9), u64(1n << 28n)])),
  "a 2 GiB string value": gguf(0n, 1n, Buffer.concat([str("x.s"), u32(8), u64(2n ** 31n)])),
  "a 2^63-byte key": gguf(0n, 1n, u64(1n << 63n)),
  "a 100 KB key": gguf(0n, 1n, Buffer.concat([u64(100_000n), Buffer.alloc(100_000, 97), u32(0), Buffer.alloc(1)])),
  "an unknown value type": gguf(0n, 1n, Buffer.concat([str("x.t"), u32(99), u32(0)])),
  "GGUF version 1": gguf(0n, 0n, Buffer.alloc(0), 1),
  "GGUF version 4000": gguf(0n, 0n, Buffer.alloc(0), 4000),
  "a tensor of 9 dimensions": gguf(1n, 1n, Buffer.concat([arch, str("t"), u32(9)])),
  "a tensor whose data lies past the end": gguf(
    1n,
    1n,
    Buffer.concat([arch, str("t"), u32(1), u64(4n), u32(0), u64(1n << 40n)]),
  ),
  "a header cut after its counts": gguf(3n, 5n, Buffer.alloc(0), 3, 24),
};

describe("fault suite: broken and hostile GGUF files", () => {
  let dir: string;
  let good: string[];
  /** Real GGUFs cut short at many offsets, in the header and in the tensor data. */
  const truncated: string[] = [];
  /** Real GGUFs cut inside their last tensor's data: only llama.cpp's load, which knows tensor sizes, sees it. */
  const cutInLastTensor: string[] = [];
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "hearth-faults-gguf-"));
    good = [
      await testModel("stories260K"),
      ...Object.values(LAB_MODEL_FILES).map((f) => path.join(REPO_ROOT, "lab", "models", f)),
    ];
    for (const [i, name] of Object.keys(HOSTILE).entries())
      writeFileSync(path.join(dir, `hostile-${i}.gguf`), HOSTILE[name]!);
    for (const source of good) {
      const bytes = readFileSync(source);
      for (const fraction of [0.0005, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 0.6, 0.9, 0.999]) {
        const file = path.join(dir, `${path.basename(source, ".gguf")}-cut-${fraction}.gguf`);
        writeFileSync(file, bytes.subarray(0, Math.max(28, Math.floor(bytes.length * fraction))));
        (fraction < 0.99 ? truncated : cutInLastTensor).push(file);
      }
    }
  });
  afterAll(() => fs.rm(dir, { recursive: true, force: true }));

  it("the header check passes the real models", async () => {
    for (const file of good) await expect(checkGgufHeader(file)).resolves.toBeUndefined();
  });

  it.each(Object.keys(HOSTILE).map((name, i) => [name, i] as const))(
    "refuses %s at once, naming the file",
    async (_name, i) => {
      const file = path.join(dir, `hostile-${i}.gguf`);
      const started = performance.now();
      const error = await checkGgufHeader(file).then(
        () => undefined,
        (e: unknown) => e as { code?: number; message?: string },
      );
      expect(error?.code).toBe(ErrorCodes.ModelCorrupt);
      expect(error?.message).toContain(`hostile-${i}.gguf is not a usable GGUF`);
      expect(performance.now() - started).toBeLessThan(2_000);
    },
  );

  it("refuses every truncated copy of a real model", async () => {
    for (const file of truncated) {
      const error = await checkGgufHeader(file).then(
        () => undefined,
        (e: unknown) => e as { code?: number },
      );
      expect(error?.code, path.basename(file)).toBe(ErrorCodes.ModelCorrupt);
    }
  });

  describe("through the real sidecar", () => {
    let sidecar: SidecarProcess;
    beforeAll(async () => {
      ({ sidecar } = await spawnSidecar());
    });
    afterAll(() => sidecar.stop());

    it("each broken load ends with ModelCorrupt within seconds; the sidecar keeps serving, its memory bounded", async () => {
      const files = [
        ...Object.keys(HOSTILE).map((_, i) => path.join(dir, `hostile-${i}.gguf`)),
        ...truncated,
        ...cutInLastTensor,
      ];
      for (const file of files) {
        const started = performance.now();
        const error = await errorOf(sidecar.request("model/load", { role: "chat", model: { uri: file } }));
        expect(error.code, path.basename(file)).toBe(ErrorCodes.ModelCorrupt);
        expect(error.message).toContain(path.basename(file));
        expect(error.message, path.basename(file)).not.toMatch(/RangeError|BigInt|\n\s+at /);
        expect(performance.now() - started, path.basename(file)).toBeLessThan(10_000);
      }
      const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(await fs.readFile(`/proc/${sidecar.pid}/status`, "utf8"))![1]);
      expect(rssKiB).toBeLessThan(1024 * 1024);
      const info = await sidecar.request("model/load", { role: "chat", model: { uri: good[0]! } });
      expect(info.role).toBe("chat");
    }, 120_000);
  });
});
