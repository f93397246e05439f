import { describe, expect, it } from "vitest";
import { parseCatalog, shippedCatalog } from "../../sidecar/setup/catalog";
import { MODEL_ROLES } from "../../shared/protocol";
import { ErrorCodes } from "../../shared/protocol";

describe("model catalog", () => {
  it("the shipped catalog matches the format, covers every role, and says where each fact was read", () => {
    const catalog = shippedCatalog();
    for (const role of MODEL_ROLES)
      expect(
        catalog.models.some((m) => m.roles.includes(role)),
        role,
      ).toBe(true);
    for (const m of catalog.models) {
      expect(m.sources["uri"], m.id).toBeTruthy();
      // Every fact given is sourced; a fact not read here is null, never guessed.
      for (const fact of ["parameters", "license", "trainedContext", "sizeBytes", "sha256"] as const)
        if (m[fact] !== null) expect(m.sources[fact], `${m.id}.${fact}`).toBeTruthy();
      if (m.roles.includes("completion")) expect(m.fimTemplate, m.id).toBeTruthy();
    }
  });

  it("a bad entry is refused naming its field; a repeated id too", () => {
    const good = shippedCatalog();
    const bad = structuredClone(good) as unknown as { models: Array<Record<string, unknown>> };
    bad.models[2]!["uri"] = "file:///etc/passwd";
    expect(() => parseCatalog(bad, "x.json")).toThrow(
      /'catalog\.models\[2\]\.uri' must be an hf: URI or an http\(s\) URL/,
    );
    const badSha = structuredClone(good) as unknown as { models: Array<Record<string, unknown>> };
    badSha.models[0]!["sha256"] = "abc";
    expect(() => parseCatalog(badSha, "x.json")).toThrow(/sha256' must be 64 lower-case hex digits or null/);
    const twice = structuredClone(good);
    twice.models.push(twice.models[0]!);
    try {
      parseCatalog(twice, "x.json");
      expect.unreachable();
    } catch (error) {
      expect((error as { code: number }).code).toBe(ErrorCodes.CatalogInvalid);
      expect((error as Error).message).toMatch(/lists 'qwen2.5-coder-0.5b-q8_0' twice/);
    }
    expect(() => parseCatalog({ format: "other", version: 1, models: [] }, "y")).toThrow(
      /'catalog\.format' must be 'hearth-catalog'/,
    );
  });
});
