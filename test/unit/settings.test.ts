import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { SETTINGS, settingDefault } from "../../shared/settings";
import { REPO_ROOT } from "../testModels";

/** How the README's settings table writes a default: numbers bare, everything else as inline code. */
function readmeDefault(value: unknown): string {
  if (typeof value === "number") return String(value);
  if (typeof value === "string") return value === "" ? '`""`' : `\`${value}\``;
  return `\`${JSON.stringify(value)}\``;
}

const read = (file: string) => readFileSync(path.join(REPO_ROOT, file), "utf8");

describe("settings: package.json is the one definition", () => {
  it("the README's settings table has one row per setting, with package.json's default", () => {
    const section = read("README.md").split("\n## Settings\n")[1]!.split("\n## ")[0]!;
    const rows = section
      .split("\n")
      .filter((l) => l.startsWith("| `hearth."))
      .map((l) => l.split(" | ").map((c) => c.replace(/^\| /, "")));
    const readme = new Map(rows.map(([name, def]) => [name!.replace(/`/g, ""), def]));
    expect(rows.length, "a setting has two rows").toBe(readme.size);
    expect([...readme.keys()].sort()).toEqual(SETTINGS.map((s) => s.name).sort());
    for (const s of SETTINGS) expect(readme.get(s.name), s.name).toBe(readmeDefault(s.default));
  });

  it("readConfig reads every setting by name and writes no default of its own", () => {
    const source = read("extension/config.ts");
    const keys = [...source.matchAll(/\bget\("([^"]+)"\)/g)].map((m) => `hearth.${m[1]}`);
    // hearth.trace.server is read by vscode-languageclient itself.
    expect(keys.sort()).toEqual(
      SETTINGS.map((s) => s.name)
        .filter((n) => n !== "hearth.trace.server")
        .sort(),
    );
    expect(source).not.toMatch(/\bc\.get(<[^>]*>)?\("[^"]+",/);
  });

  it("every default is of its declared type and within its enum and bounds", () => {
    for (const s of SETTINGS) {
      const types = Array.isArray(s.type) ? s.type : [s.type];
      const actual = s.default === null ? "null" : Array.isArray(s.default) ? "array" : typeof s.default;
      const declared = types.map((t) => (t === "integer" ? "number" : t));
      expect(declared, s.name).toContain(actual);
      if (types.includes("integer")) expect(Number.isInteger(s.default), s.name).toBe(true);
      if (s.enum) expect(s.enum, s.name).toContain(s.default);
      if (typeof s.default === "number") {
        expect(s.default, s.name).toBeGreaterThanOrEqual(s.minimum ?? -Infinity);
        expect(s.default, s.name).toBeLessThanOrEqual(s.maximum ?? Infinity);
      }
      expect(s.description, `${s.name} has no description`).not.toBe("");
    }
  });

  it("settingDefault reads package.json", () => {
    expect(settingDefault("chat.maxTokens")).toBe(512);
    expect(settingDefault("chat.systemPrompt")).toMatch(/^You are Hearth/);
    expect(settingDefault("index.queryPrefix")).toBeNull();
  });
});
