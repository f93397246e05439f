import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import packageJson, { contributes } from "../../package.json";
import { SETTINGS, settingDefault } from "../../shared/settings";
import { REPO_ROOT } from "../testModels";

const read = (file: string) => readFileSync(path.join(REPO_ROOT, file), "utf8");

describe("settings: package.json is the one definition", () => {
  it("docs/settings.md is generated from package.json and up to date, one row per setting", () => {
    // The generator's --check exits 1 (and says how to fix it) when the file differs from what it would write.
    execFileSync(process.execPath, [path.join(REPO_ROOT, "scripts", "settings-doc.mjs"), "--check"], { stdio: "pipe" });
    const rows = read("docs/settings.md")
      .split("\n")
      .filter((l) => l.startsWith("| `hearth."))
      .map((l) => l.split(" | ")[0]!.replace(/^\| /, "").replace(/`/g, ""));
    expect(rows).toEqual(SETTINGS.map((s) => s.name));
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

  it("in Restricted Mode a workspace's values of the settings that pick models, prompts or tools are ignored", () => {
    // VS Code reads the user's value of a restricted configuration in an untrusted workspace (issue 31, M11).
    const trust = (
      packageJson as unknown as {
        capabilities: { untrustedWorkspaces: { supported: unknown; restrictedConfigurations: string[] } };
      }
    ).capabilities.untrustedWorkspaces;
    expect(trust.supported).toBe("limited");
    const names = new Set(SETTINGS.map((s) => s.name));
    for (const name of trust.restrictedConfigurations) expect(names.has(name), name).toBe(true);
    expect(trust.restrictedConfigurations).toEqual(
      expect.arrayContaining([
        "hearth.models.chat",
        "hearth.models.completion",
        "hearth.models.embedding",
        "hearth.models.rerank",
        "hearth.models.folder",
        "hearth.models.allowDownload",
        "hearth.chat.systemPrompt",
        "hearth.agent.otherTools",
      ]),
    );
  });

  it("settings that send code elsewhere or pre-approve commands cannot be set by a workspace (machine scope)", () => {
    const { properties } = contributes.configuration;
    for (const name of [
      "hearth.engines.chat",
      "hearth.engines.completion",
      "hearth.engines.embedding",
      "hearth.engines.rerank",
      "hearth.agent.allowedCommands",
    ] as const) {
      expect((properties[name] as { scope?: string }).scope, name).toBe("machine");
    }
  });

  it("settingDefault reads package.json", () => {
    expect(settingDefault("chat.maxTokens")).toBe(512);
    expect(settingDefault("chat.systemPrompt")).toMatch(/^You are Hearth/);
    expect(settingDefault("index.queryPrefix")).toBeNull();
  });
});
