import { describe, expect, it } from "vitest";
import { HearthError } from "../../shared/errors";
import {
  parseChatSendParams,
  parseEmbedParams,
  parseGenerationParams,
  parseModelListParams,
  parseModelLoadParams,
  parseRuntimeConfigureParams,
} from "../../shared/guards";
import { ErrorCodes } from "../../shared/protocol";

function codeOf(fn: () => unknown): number | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof HearthError ? e.code : -1;
  }
  return undefined;
}

describe("protocol guards", () => {
  it("accept well-formed params", () => {
    expect(
      parseChatSendParams({
        streamId: "s",
        messages: [
          { role: "user", content: "a" },
          { role: "assistant", content: "b" },
          { role: "user", content: "c" },
        ],
        params: { temperature: 0, maxTokens: 5 },
      }).params,
    ).toEqual({ temperature: 0, maxTokens: 5, topK: undefined, topP: undefined, seed: undefined });
    expect(parseModelLoadParams({ role: "chat", model: { uri: "a.gguf", sha256: "A".repeat(64) } }).model.sha256).toBe(
      "a".repeat(64),
    );
  });
  it.each([
    ["null params", () => parseChatSendParams(null)],
    ["no streamId", () => parseChatSendParams({ messages: [{ role: "user", content: "x" }] })],
    ["empty messages", () => parseChatSendParams({ streamId: "s", messages: [] })],
    ["bad role", () => parseChatSendParams({ streamId: "s", messages: [{ role: "system", content: "x" }] })],
    ["last not user", () => parseChatSendParams({ streamId: "s", messages: [{ role: "assistant", content: "x" }] })],
    [
      "a tool without parameters",
      () => parseChatSendParams({ streamId: "s", messages: [{ role: "user", content: "x" }], tools: [{ name: "t" }] }),
    ],
    [
      "a tool without a name",
      () =>
        parseChatSendParams({
          streamId: "s",
          messages: [{ role: "user", content: "x" }],
          tools: [{ name: "", parameters: {} }],
        }),
    ],
    [
      "a bad toolChoice",
      () => parseChatSendParams({ streamId: "s", messages: [{ role: "user", content: "x" }], toolChoice: "none" }),
    ],
    [
      "temperature NaN",
      () =>
        parseChatSendParams({
          streamId: "s",
          messages: [{ role: "user", content: "x" }],
          params: { temperature: "hot" },
        }),
    ],
    [
      "maxTokens 0",
      () =>
        parseChatSendParams({ streamId: "s", messages: [{ role: "user", content: "x" }], params: { maxTokens: 0 } }),
    ],
    ["unknown role", () => parseModelLoadParams({ role: "vision", model: { uri: "x" } })],
    ["model as string", () => parseModelLoadParams({ role: "chat", model: "x.gguf" })],
    ["short sha256", () => parseModelLoadParams({ role: "chat", model: { uri: "x", sha256: "abc" } })],
    ["folders not strings", () => parseModelListParams({ folders: [1] })],
    ["unknown gpu", () => parseRuntimeConfigureParams({ gpu: "rocm" })],
  ])("reject %s with InvalidParams", (_name, fn) => {
    expect(codeOf(fn)).toBe(ErrorCodes.InvalidParams);
  });
  it("name the offending field, and say in words what it must be (the schemas' `expected`)", () => {
    expect(() => parseChatSendParams({ streamId: "s", messages: [{ role: "user", content: 3 }] })).toThrow(
      "Invalid params: 'messages[0].content' must be a string.",
    );
    expect(() =>
      parseChatSendParams({ streamId: "s", messages: [{ role: "user", content: "x" }], params: { temperature: 9 } }),
    ).toThrow("Invalid params: 'params.temperature' must be a number in [0, 5].");
    expect(() => parseChatSendParams({ messages: [{ role: "user", content: "x" }] })).toThrow(
      "Invalid params: 'streamId' must be a non-empty string.",
    );
    expect(() => parseModelLoadParams({ role: "chat", model: { uri: "", engine: { url: "ftp://x" } } })).toThrow(
      "Invalid params: 'model.engine.url' must be an http:// or https:// URL.",
    );
    expect(() => parseModelListParams({ folders: ["a", 1] })).toThrow("Invalid params: 'folders[1]' must be a string.");
    expect(() => parseGenerationParams("hot")).toThrow("Invalid params: 'params' must be an object.");
    // Issue 31, m5: an empty text is refused, not embedded into a vector of length 0.
    expect(() => parseEmbedParams({ texts: ["a", ""] })).toThrow(
      "Invalid params: 'texts[1]' must be a non-empty string.",
    );
  });
});
