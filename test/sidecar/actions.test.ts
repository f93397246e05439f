import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyProposal } from "../../common/actions/proposal";
import { responseSchema, runAction } from "../../common/actions/runAction";
import { builtinPrompts } from "../../common/actions/promptFiles";
import type { SidecarProcess } from "../../common/sidecar/SidecarProcess";
import { ErrorCodes } from "../../shared/protocol";
import { testModel } from "../testModels";
import { errorOf, spawnSidecar } from "./helpers";

/*
 * Actions through the real sidecar with stories260K. Its text is TinyStories prose, not code: these tests check
 * the guarantees — the JSON-schema grammar makes every structured answer parse, edits land where they belong,
 * the original code is kept around a doc comment — not the quality of the answers.
 */
let sidecar: SidecarProcess;
const prompts = builtinPrompts();
const spec = (name: string) => prompts.find((p) => p.name === name)!;
const source = "export function add(a: number, b: number) {\n  return a + b;\n}\n\nexport const answer = 42;\n";
const input = {
  path: "src/math.ts",
  language: "typescript",
  text: source,
  selection: { start: 0, end: source.indexOf("\n\n") + 1 },
};

beforeAll(async () => {
  ({ sidecar } = await spawnSidecar());
  await sidecar.request("model/load", {
    role: "chat",
    model: { uri: await testModel("stories260K") },
    contextSize: 1024,
  });
});

afterAll(async () => {
  await sidecar?.stop();
});

describe("structured output (JSON-schema grammar)", () => {
  it("always parses, for every action schema and several seeds and temperatures", async () => {
    for (const mode of ["edit", "doc", "newFile"] as const) {
      for (const seed of [1, 2, 3]) {
        const r = await sidecar.request("chat/send", {
          streamId: `s-${mode}-${seed}`,
          messages: [{ role: "user", content: "Once upon a time there was a function." }],
          params: { maxTokens: 160, temperature: seed === 1 ? 0 : 1, seed },
          responseSchema: responseSchema(mode, 160),
        });
        expect(r.stopReason).toBe("stop");
        expect(JSON.parse(r.text)).toEqual(r.json);
        const keys = Object.keys(r.json as object).sort();
        expect(keys).toEqual({ edit: ["code"], doc: ["comment"], newFile: ["content", "fileName"] }[mode]);
        for (const v of Object.values(r.json as object)) expect(typeof v).toBe("string");
      }
    }
  });

  it("rejects a schema the grammar cannot express, naming the field", async () => {
    const e = await errorOf(
      sidecar.request("chat/send", {
        streamId: "bad",
        messages: [{ role: "user", content: "hi" }],
        responseSchema: { type: "frobnicate" },
      }),
    );
    expect(e.code).toBe(ErrorCodes.InvalidParams);
    expect(e.message).toMatch(/'responseSchema.type' must be one of object, array/);
  });
});

describe("actions produce proposals, never edits", () => {
  it("doc: a comment above the selection, the selected code kept byte for byte", async () => {
    const out = await runAction(sidecar, spec("doc"), input, { params: { maxTokens: 200, temperature: 0 } });
    expect(out.kind).toBe("edit");
    if (out.kind !== "edit") return;
    const { proposal } = out;
    expect(proposal.original).toBe(source);
    expect(proposal.start).toBe(0);
    expect(proposal.newText.startsWith("/**") || proposal.newText.startsWith("//")).toBe(true);
    expect(proposal.newText.endsWith(source.slice(0, input.selection.end))).toBe(true);
    expect(applyProposal(proposal).endsWith(source)).toBe(true);
  });

  it("fix / edit: the answer replaces exactly the selection; the rest of the file is untouched", async () => {
    for (const name of ["fix", "edit"]) {
      const out = await runAction(
        sidecar,
        spec(name),
        { ...input, input: "make it generic", diagnostics: "line 2: error: something" },
        { params: { maxTokens: 200 } },
      );
      if (out.kind !== "edit") throw new Error(`expected an edit from ${name}`);
      expect([out.proposal.start, out.proposal.end]).toEqual([input.selection.start, input.selection.end]);
      const after = applyProposal(out.proposal);
      expect(after.endsWith("\nexport const answer = 42;\n")).toBe(true);
      expect(out.proposal.newText.endsWith("\n")).toBe(true);
    }
  });

  it("tests: a safe sibling file name and content; explain: a chat prompt with the code in it", async () => {
    const out = await runAction(sidecar, spec("tests"), input, { params: { maxTokens: 200 } });
    if (out.kind !== "newFile") throw new Error("expected a new file");
    expect(out.fileName).toMatch(/^[A-Za-z0-9._-]+\.[A-Za-z0-9]+$/);
    expect(typeof out.content).toBe("string");
    const chat = await runAction(sidecar, spec("explain"), input);
    expect(chat).toMatchObject({
      kind: "chat",
      prompt: expect.stringContaining("export function add(a: number, b: number)"),
    });
  });
});
