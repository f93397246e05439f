/**
 * Engine-neutral defaults: what a request that leaves a field out gets, whichever engine runs the role (embedded
 * or remote). Each is a setting's default from package.json (`shared/settings.ts`), never a literal.
 */
import type { GenerationParams } from "../../shared/protocol";
import { settingDefault } from "../../shared/settings";

/** Sampling defaults used when the client leaves a field out: the `hearth.chat.*` settings' defaults. */
export const DEFAULT_GENERATION: Required<Omit<GenerationParams, "seed">> = {
  temperature: settingDefault("chat.temperature"),
  topP: settingDefault("chat.topP"),
  topK: settingDefault("chat.topK"),
  maxTokens: settingDefault("chat.maxTokens"),
};

/** FIM defaults used when the client leaves a field out: the `hearth.completion.*` settings' defaults. */
export const INFILL_DEFAULTS = {
  prefixTokens: settingDefault("completion.prefixTokens"),
  suffixTokens: settingDefault("completion.suffixTokens"),
  maxTokens: settingDefault("completion.maxTokens"),
  contextTokens: settingDefault("completion.contextTokens"),
} as const;
