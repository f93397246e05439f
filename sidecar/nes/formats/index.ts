import type { NesFormat } from "../../../shared/protocol";
import { genericFormat } from "./generic";
import { sweepFormat } from "./sweep";
import type { NesFormatModule } from "./types";
import { zetaFormat } from "./zeta";
import { zeta2Format } from "./zeta2";

export type { NesFormatModule, NesPrompt, NesPromptInput, PromptPart } from "./types";
export { promptText } from "./types";

/** Every format by name. */
export const NES_FORMAT_MODULES: Record<NesFormat, NesFormatModule> = {
  sweep: sweepFormat,
  zeta: zetaFormat,
  zeta2: zeta2Format,
  generic: genericFormat,
};

/**
 * The format a model was trained on, from its names (the GGUF's file name and `general.name`): Sweep's next-edit
 * models → `sweep`, Zeta 2.x → `zeta2`, Zeta → `zeta`; any other model → `generic` (an instruct model asked for
 * the rewritten window).
 */
export function formatForModel(...names: Array<string | undefined>): NesFormat {
  const name = names.filter(Boolean).join(" ").toLowerCase();
  if (/sweep/.test(name) && /next[-_ ]?edit|nes\b/.test(name)) return "sweep";
  if (/zeta[-_ ]?2/.test(name)) return "zeta2";
  if (/\bzeta\b|zeta[-_.]/.test(name)) return "zeta";
  return "generic";
}
