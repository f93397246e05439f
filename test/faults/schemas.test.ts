import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SidecarProcess } from "../../common/sidecar/SidecarProcess";
import { GRAMMAR_CACHE_ENTRIES } from "../../sidecar/engines/llama/ChatService";
import { MAX_SCHEMA_CHARS, MAX_SCHEMA_DEPTH, MAX_SCHEMA_ENUM } from "../../shared/guards";
import { ErrorCodes } from "../../shared/protocol";
import { testModel } from "../testModels";
import { errorOf, spawnSidecar } from "../sidecar/helpers";

/*
 * Issue 31, C1 and m1/m3: every distinct response schema is compiled into a grammar; a client that sends a new one
 * with every request (an agent framework whose tools change per call, or a hostile page behind `hearth serve`)
 * must not grow the sidecar without end, and a schema that would make each token cost seconds is refused. The
 * real sidecar with the real stories260K model.
 */
describe("fault suite: response schemas are bounded (grammar cache, size, depth, enum)", () => {
  let sidecar: SidecarProcess;
  const send = (responseSchema: object) =>
    sidecar.request("chat/send", {
      streamId: "schema",
      messages: [{ role: "user", content: "Once upon a time" }],
      params: { temperature: 0, maxTokens: 1 },
      responseSchema,
    });

  beforeAll(async () => {
    const model = await testModel("stories260K");
    ({ sidecar } = await spawnSidecar());
    await sidecar.request("model/load", { role: "chat", model: { uri: model }, contextSize: 256 });
  });
  afterAll(async () => {
    await sidecar.stop();
  });

  it(`keeps at most ${GRAMMAR_CACHE_ENTRIES} compiled grammars however many distinct schemas arrive`, async () => {
    const distinct = GRAMMAR_CACHE_ENTRIES + 24;
    for (let i = 0; i < distinct; i++) {
      await send({ type: "object", properties: { [`field${i}`]: { type: "string" } } });
    }
    const stats = await sidecar.request("runtime/stats", {});
    expect(stats.grammarCache).toEqual({ entries: GRAMMAR_CACHE_ENTRIES, maxEntries: GRAMMAR_CACHE_ENTRIES });
    // A schema evicted long ago compiles again and still constrains the answer.
    const again = await send({ type: "object", properties: { field0: { type: "string" } } });
    expect(again.text.startsWith("{")).toBe(true);
  });

  it("refuses, naming the field, an enum too long, a schema too deep or too large — before compiling it", async () => {
    const longEnum = await errorOf(send({ enum: Array.from({ length: MAX_SCHEMA_ENUM + 1 }, (_, i) => `v${i}`) }));
    expect(longEnum.code).toBe(ErrorCodes.InvalidParams);
    expect(longEnum.message).toBe(`Invalid params: 'responseSchema.enum' must be at most ${MAX_SCHEMA_ENUM} values.`);

    let deep: object = { type: "string" };
    for (let i = 0; i <= MAX_SCHEMA_DEPTH; i++) deep = { type: "object", properties: { a: deep } };
    const tooDeep = await errorOf(send(deep));
    expect(tooDeep.code).toBe(ErrorCodes.InvalidParams);
    expect(tooDeep.message).toMatch(/'responseSchema(\.properties\.a)+' must be at most 32 levels deep/);

    const properties = Object.fromEntries(
      Array.from({ length: 3000 }, (_, i) => [`a_rather_long_property_name_${i}`, { type: "string" }]),
    );
    const huge = await errorOf(send({ type: "object", properties }));
    expect(huge.code).toBe(ErrorCodes.InvalidParams);
    expect(huge.message).toMatch(
      new RegExp(
        `'responseSchema' must be a JSON schema of at most ${MAX_SCHEMA_CHARS.toLocaleString("en")} characters`,
      ),
    );

    const tool = await errorOf(
      sidecar.request("chat/send", {
        streamId: "schema",
        messages: [{ role: "user", content: "hi" }],
        tools: [{ name: "pick", parameters: { type: "object", properties: { x: { enum: longEnumValues() } } } }],
      }),
    );
    expect(tool.message).toBe(
      `Invalid params: 'tools[0].parameters.properties.x.enum' must be at most ${MAX_SCHEMA_ENUM} values.`,
    );
  });
});

function longEnumValues(): string[] {
  return Array.from({ length: MAX_SCHEMA_ENUM + 1 }, (_, i) => `v${i}`);
}
