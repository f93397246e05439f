import { parseDocument } from "yaml";
import { BUILTIN_PROMPT_FILES } from "./builtinPrompts";

/** What a prompt attaches from the editor. */
export type PromptContext = "selection" | "file" | "none";
/**
 * What happens with the answer: `chat` streams it into the chat; `edit` replaces the selection (a reviewed
 * diff); `doc` inserts a documentation comment above the selection (a reviewed diff); `newFile` proposes a new
 * file (name and content).
 */
export type PromptMode = "chat" | "edit" | "doc" | "newFile";

export const PROMPT_CONTEXTS: readonly PromptContext[] = ["selection", "file", "none"];
export const PROMPT_MODES: readonly PromptMode[] = ["chat", "edit", "doc", "newFile"];

/** A parsed prompt file (`.hearth/prompts/<file>.md`, or a built-in). */
export interface PromptSpec {
  /** Slash-command name: lower case letters, digits and dashes, starting with a letter. */
  name: string;
  description: string;
  context: PromptContext;
  mode: PromptMode;
  /** When set, the user is asked for `{{input}}` with this question. */
  input?: string;
  /** The body after the front matter, with `{{variables}}`. */
  template: string;
  /** File path, or `builtin:<file>`. */
  source: string;
}

/** A bad prompt file: `message` names the file and the 1-based line. */
export class PromptFileError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    detail: string,
  ) {
    super(`${file}:${line}: ${detail}`);
    this.name = "PromptFileError";
  }
}

/** Variables a template may use; unknown `{{names}}` are an error at load time. */
export const PROMPT_VARIABLES = [
  "code",
  "path",
  "language",
  "diagnostics",
  "input",
  "docStyle",
  "selection",
  "file",
] as const;
export type PromptVariables = Partial<Record<(typeof PROMPT_VARIABLES)[number], string>>;

const NAME = /^[a-z][a-z0-9-]{0,39}$/;

/**
 * Parse a prompt file: `---` front matter (YAML: `name`, `description`, optional `context`, `mode`, `input`),
 * `---`, then the template.
 * @param reserved names that may not be used (the built-in slash commands).
 * @throws PromptFileError naming the file and line of the first problem.
 */
export function parsePromptFile(text: string, source: string, reserved: ReadonlySet<string> = new Set()): PromptSpec {
  const lines = text.replace(/^\ufeff/, "").split(/\r?\n/);
  if (lines[0]?.trim() !== "---")
    throw new PromptFileError(
      source,
      1,
      "a prompt file starts with a '---' line, then its front matter (name, description), then '---'.",
    );
  const end = lines.findIndex((l, i) => i > 0 && l.trim() === "---");
  if (end < 0) throw new PromptFileError(source, lines.length, "the front matter is not closed by a '---' line.");
  const doc = parseDocument(lines.slice(1, end).join("\n"), { prettyErrors: false });
  if (doc.errors.length) {
    const e = doc.errors[0]!;
    throw new PromptFileError(
      source,
      (e.linePos?.[0]?.line ?? 1) + 1,
      `invalid front matter: ${e.message.split("\n")[0]!}`,
    );
  }
  const data = doc.toJS() as Record<string, unknown> | null;
  // Line of a front-matter key (for errors about its value), 1-based in the file.
  const lineOf = (key: string) => {
    const i = lines.slice(1, end).findIndex((l) => l.startsWith(`${key}:`));
    return i < 0 ? 1 : i + 2;
  };
  if (!data || typeof data !== "object" || Array.isArray(data))
    throw new PromptFileError(source, 2, "the front matter must be 'key: value' lines.");
  const known = new Set(["name", "description", "context", "mode", "input"]);
  for (const key of Object.keys(data)) {
    if (!known.has(key))
      throw new PromptFileError(source, lineOf(key), `unknown key '${key}' (known: ${[...known].join(", ")}).`);
  }
  const name = data["name"];
  if (typeof name !== "string" || !NAME.test(name)) {
    throw new PromptFileError(
      source,
      lineOf("name"),
      `'name' must be lower-case letters, digits and dashes, starting with a letter (got ${JSON.stringify(name)}).`,
    );
  }
  if (reserved.has(name))
    throw new PromptFileError(source, lineOf("name"), `'${name}' is a built-in command; choose another name.`);
  if (typeof data["description"] !== "string" || !data["description"].trim()) {
    throw new PromptFileError(
      source,
      lineOf("description"),
      "'description' is required: one line saying what the prompt does.",
    );
  }
  const context = (data["context"] ?? "selection") as PromptContext;
  if (!PROMPT_CONTEXTS.includes(context))
    throw new PromptFileError(source, lineOf("context"), `'context' must be one of ${PROMPT_CONTEXTS.join(", ")}.`);
  const mode = (data["mode"] ?? "chat") as PromptMode;
  if (!PROMPT_MODES.includes(mode))
    throw new PromptFileError(source, lineOf("mode"), `'mode' must be one of ${PROMPT_MODES.join(", ")}.`);
  if (data["input"] !== undefined && typeof data["input"] !== "string")
    throw new PromptFileError(source, lineOf("input"), "'input' must be the question to ask the user.");
  if (mode !== "chat" && context === "none")
    throw new PromptFileError(source, lineOf("mode"), `mode '${mode}' edits code, so 'context' cannot be 'none'.`);
  const template = lines
    .slice(end + 1)
    .join("\n")
    .trim();
  if (!template) throw new PromptFileError(source, end + 2, "the prompt text after the front matter is empty.");
  for (const [i, line] of lines.entries()) {
    if (i <= end) continue;
    for (const m of line.matchAll(/\{\{\s*([A-Za-z]+)\s*\}\}/g)) {
      if (!(PROMPT_VARIABLES as readonly string[]).includes(m[1]!)) {
        throw new PromptFileError(
          source,
          i + 1,
          `unknown variable {{${m[1]}}} (known: ${PROMPT_VARIABLES.map((v) => `{{${v}}}`).join(" ")}).`,
        );
      }
    }
  }
  return {
    name,
    description: data["description"].trim(),
    context,
    mode,
    input: data["input"] as string | undefined,
    template,
    source,
  };
}

/** Fill a template's `{{variables}}` (missing ones become empty; `selection`/`file` are aliases of `code`). */
export function renderPrompt(spec: PromptSpec, vars: PromptVariables): string {
  const values: PromptVariables = { selection: vars.code, file: vars.code, ...vars };
  return spec.template.replace(/\{\{\s*([A-Za-z]+)\s*\}\}/g, (_m, key: keyof PromptVariables) => values[key] ?? "");
}

/** The built-in prompts, parsed (they are tested to parse). */
export function builtinPrompts(): PromptSpec[] {
  return Object.entries(BUILTIN_PROMPT_FILES).map(([file, text]) => parsePromptFile(text, `builtin:${file}`));
}

/**
 * The prompts of a workspace: the built-ins, overridden by name by `.hearth/prompts/*.md` files, plus the
 * workspace's own. Bad files are reported in `errors` (the rest still load).
 * @param files `[path, text]` of each `.md` file in the prompts folder (hosts read them their own way).
 * @param reserved names of built-in slash commands, which prompts may not take.
 */
/**
 * The largest prompt file read, in bytes (UTF-8) or characters: a prompt template is a page or two; a file far
 * larger is a mistake (a log, a dump) that would only end as a prompt too long for any context window.
 */
export const MAX_PROMPT_FILE_BYTES = 256 * 1024;

export function mergePrompts(
  files: Array<[string, string]>,
  reserved: ReadonlySet<string>,
): { prompts: PromptSpec[]; errors: PromptFileError[] } {
  const byName = new Map(builtinPrompts().map((p) => [p.name, p]));
  const errors: PromptFileError[] = [];
  const seen = new Map<string, string>();
  for (const [file, text] of [...files].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    try {
      if (text.length > MAX_PROMPT_FILE_BYTES) throw tooLargePromptFile(file, text.length);
      const spec = parsePromptFile(text, file, reserved);
      const other = seen.get(spec.name);
      if (other) throw new PromptFileError(file, 2, `name '${spec.name}' is already used by ${other}.`);
      seen.set(spec.name, file);
      byName.set(spec.name, spec);
    } catch (e) {
      // Whatever goes wrong with one file (a YAML alias bomb, a parser's own error) is that file's error:
      // the built-ins and the other files keep working.
      errors.push(e instanceof PromptFileError ? e : new PromptFileError(file, 1, `cannot be parsed: ${String(e)}`));
    }
  }
  return { prompts: [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : 1)), errors };
}

const DOC_STYLES: Record<string, string> = {
  go: "a // comment block starting with the name",
  rust: "/// doc comments",
  csharp: "/// XML doc comments",
  python: "a docstring",
  ruby: "# comments (YARD style)",
  shellscript: "# comments",
};
const BLOCK_DOC_LANGUAGES =
  /^(typescript|typescriptreact|javascript|javascriptreact|java|kotlin|php|scala|swift|dart|c|cpp)$/;

/** The doc-comment convention of a language, for the `doc` prompt's `{{docStyle}}`. */
export function docStyle(language: string): string {
  return (
    DOC_STYLES[language] ??
    (BLOCK_DOC_LANGUAGES.test(language)
      ? "a /** … */ block comment (JSDoc / Javadoc / Doxygen style)"
      : "the usual doc-comment style of the language")
  );
}

/** The error of a prompt file over {@link MAX_PROMPT_FILE_BYTES}. */
export function tooLargePromptFile(file: string, size: number): PromptFileError {
  return new PromptFileError(
    file,
    1,
    `the file is ${Math.round(size / 1024).toLocaleString("en")} KiB; a prompt file may be at most ${MAX_PROMPT_FILE_BYTES / 1024} KiB.`,
  );
}
