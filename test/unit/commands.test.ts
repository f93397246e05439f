import { describe, expect, it } from "vitest";
import { contributes } from "../../package.json";
import { COMMAND_IDS } from "../../extension/commandIds";

describe("VS Code commands", () => {
  it("COMMAND_IDS (which keys the handler table, so a missing handler does not compile) are package.json's", () => {
    expect([...COMMAND_IDS]).toEqual(contributes.commands.map((c) => c.command));
  });
});
