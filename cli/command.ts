import { parseArgs } from "node:util";
import type { ModelRole } from "../shared/protocol";
import { optionsHelp, UsageError, type OptionSpecs, type OptionValues } from "./options";

/**
 * One `hearth` command: its name, usage line, help text, the flags it takes and what it runs. Each lives in
 * `cli/commands/<name>Command.ts`; `cli/main.ts` is the table of them.
 */
export interface CliCommand<O extends OptionSpecs = OptionSpecs> {
  /** What follows `hearth`, e.g. `"index"`. */
  name: string;
  /** Usage after `hearth <name>`, e.g. `<dir> [options]` (several lines allowed). */
  usage: string;
  /** One line for `hearth --help`'s list of commands. */
  summary: string;
  /** The paragraph `hearth <name> --help` prints under the usage. */
  description: string;
  /** Every flag the command takes; any other flag is an error. */
  options: O;
  /**
   * The role its `--model` flag names, when it has one: the user config file (`hearth setup`) fills an absent
   * `--model` with that role's model (and `--embedding-model` / `--rerank-model` with theirs).
   */
  modelRole?: ModelRole;
  /** At most this many positional arguments; more are an error. */
  maxPositionals: number;
  /**
   * Run it. @returns the exit code (0 done, 1 failed, 2 usage).
   * @throws UsageError for a mistake in the command line (main prints it, exit code 2).
   */
  run(values: OptionValues<O>, positionals: string[]): Promise<number>;
}

/** Identity, for type inference of a command's option values from its option table. */
export function defineCommand<O extends OptionSpecs>(command: CliCommand<O>): CliCommand<O> {
  return command;
}

/** Every command takes `--help`. */
const HELP_OPTION = { help: { type: "boolean", short: "h", help: "show this help" } } as const satisfies OptionSpecs;

/** `hearth <name> --help`: usage, description and every flag. */
export function commandHelp(command: CliCommand): string {
  const usage = command.usage
    .split("\n")
    .map((line, i) => (i === 0 ? `Usage: hearth ${command.name} ${line}` : `       ${line}`))
    .join("\n");
  return `${usage}\n\n${command.description}\n\nOptions:\n${optionsHelp({ ...command.options, ...HELP_OPTION })}`;
}

/**
 * Parse `args` (what follows the command's name) strictly against the command's own flags.
 * @param others every command, to say which of them take a flag this one does not.
 * @throws UsageError naming the command for an unknown or foreign flag, a missing value, or a surplus argument.
 */
export function parseCommandArgs<O extends OptionSpecs>(
  command: CliCommand<O>,
  args: string[],
  others: readonly CliCommand[],
): { values: OptionValues<O> & { help?: boolean }; positionals: string[] } {
  const options: OptionSpecs = { ...command.options, ...HELP_OPTION };
  const config = Object.fromEntries(
    Object.entries(options).map(([name, o]) => [
      name,
      { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) },
    ]),
  );
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args, options: config, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(flagError(command, error as Error & { code?: string }, others));
  }
  const values = parsed.values as OptionValues<O> & { help?: boolean };
  if (!values.help && parsed.positionals.length > command.maxPositionals) {
    const extra = parsed.positionals[command.maxPositionals]!;
    throw new UsageError(
      `'${command.name}' takes at most ${command.maxPositionals} argument(s); '${extra}' is one too many (quote an argument with spaces; 'hearth ${command.name} --help' shows its usage)`,
    );
  }
  return { values, positionals: parsed.positionals };
}

/** The sentence for a flag `parseArgs` refused: which command, which flag, and who takes it. */
function flagError(command: CliCommand, error: Error & { code?: string }, others: readonly CliCommand[]): string {
  const flag = /'(-{1,2}[^' ]+)/.exec(error.message)?.[1];
  const help = `'hearth ${command.name} --help' lists its options`;
  if (error.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" && flag) {
    const name = flag.replace(/^-+/, "").split("=")[0]!;
    const takers = others
      .filter((c) => Object.entries(c.options).some(([long, o]) => long === name || o.short === name))
      .map((c) => c.name);
    return takers.length
      ? `'${command.name}' does not take ${flag}, an option of ${takers.join(", ")}; ${help}`
      : `'${command.name}' has no option ${flag}; ${help}`;
  }
  return `'${command.name}': ${error.message.split("\n")[0]}; ${help}`;
}
