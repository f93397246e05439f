import { contributes } from "../package.json";

/**
 * Hearth's settings have one definition: `contributes.configuration` in package.json (name, type, default,
 * description), the contract VS Code reads. Everything else takes its defaults from there through this module:
 * the extension's `readConfig()`, the CLI's flags and help, the sidecar's fallbacks for omitted request fields,
 * the completion engine. `test/unit/settings.test.ts` checks the README's settings table against it.
 * (The idea of one typed settings source is vscode-eslint's `$shared/settings.ts`.)
 */
export type SettingsManifest = (typeof contributes)["configuration"]["properties"];

/** A setting's name without the `hearth.` section, e.g. `"chat.temperature"`. */
export type SettingKey = keyof SettingsManifest extends infer K ? (K extends `hearth.${infer S}` ? S : never) : never;

/** The type of a setting's value, as its default in package.json has it (`null` where the default is null). */
export type SettingValue<K extends SettingKey> = SettingsManifest[`hearth.${K}`] extends { default: infer D }
  ? D extends readonly unknown[]
    ? string[]
    : D
  : never;

/** One setting as package.json defines it. */
export interface SettingSpec {
  /** Full name, e.g. `hearth.chat.temperature`. */
  name: string;
  type: string | string[];
  default: unknown;
  description: string;
  enum?: readonly string[];
  minimum?: number;
  maximum?: number;
}

/** Every setting, in package.json order. */
export const SETTINGS: readonly SettingSpec[] = Object.entries(contributes.configuration.properties).map(
  ([name, p]) => {
    const spec = p as {
      type: string | string[];
      default: unknown;
      description?: string;
      markdownDescription?: string;
      enum?: string[];
      minimum?: number;
      maximum?: number;
    };
    return {
      name,
      type: spec.type,
      default: spec.default,
      description: spec.markdownDescription ?? spec.description ?? "",
      ...(spec.enum ? { enum: spec.enum } : {}),
      ...(spec.minimum !== undefined ? { minimum: spec.minimum } : {}),
      ...(spec.maximum !== undefined ? { maximum: spec.maximum } : {}),
    };
  },
);

/**
 * The default of setting `key` (without `hearth.`), from package.json.
 * @example settingDefault("chat.maxTokens") // 512
 */
export function settingDefault<K extends SettingKey>(key: K): SettingValue<K> {
  const property = contributes.configuration.properties[`hearth.${key}`] as { default: unknown };
  return property.default as SettingValue<K>;
}
