/**
 * `hearth` — the headless CLI. Drives the same sidecar bundle as the extension, over the same protocol
 * (vscode-jsonrpc over Node IPC), with the same slash commands. This file is the table of commands; each command
 * (its flags, help, checks and run) is a module of `cli/commands/`.
 */
import { agentCommand } from "./commands/agentCommand";
import { chatCommand } from "./commands/chatCommand";
import { completeCommand } from "./commands/completeCommand";
import { nextEditCommand } from "./commands/nextEditCommand";
import { doctorCommand } from "./commands/doctorCommand";
import { importContinueCommand } from "./commands/importContinueCommand";
import { indexCommand } from "./commands/indexCommand";
import { mcpCommand } from "./commands/mcpCommand";
import { modelsCommand } from "./commands/modelsCommand";
import { runCommand } from "./commands/runCommand";
import { searchCommand } from "./commands/searchCommand";
import { serveCommand } from "./commands/serveCommand";
import { setupCommand } from "./commands/setupCommand";
import { configCommand } from "./commands/configCommand";
import { commandHelp, parseCommandArgs, type CliCommand } from "./command";
import { UsageError, type OptionSpecs } from "./options";
import { terminalSafe } from "./terminal";
import { applyUserConfig, readUserConfig, userConfigPath } from "./userConfig";

declare const HEARTH_VERSION: string;

/** Every command, in the order `hearth --help` lists them (the table forgets each command's own option types). */
export const COMMANDS: readonly CliCommand<OptionSpecs>[] = [
  setupCommand,
  chatCommand,
  completeCommand,
  nextEditCommand,
  indexCommand,
  searchCommand,
  runCommand,
  agentCommand,
  mcpCommand,
  serveCommand,
  modelsCommand,
  doctorCommand,
  configCommand,
  importContinueCommand,
] as unknown as CliCommand<OptionSpecs>[];

/** `hearth --help`: one line per command. */
function overview(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  return [
    "Usage: hearth <command> [options]      hearth <command> --help for a command's options",
    "",
    "Commands:",
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    "",
    "  --version              print Hearth's version",
  ].join("\n");
}

/** Run the command line `argv` (without node and the script). @returns the exit code. */
async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === "--version" || name === "-V") {
    process.stdout.write(`${typeof HEARTH_VERSION === "string" ? HEARTH_VERSION : "dev"}\n`);
    return 0;
  }
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    const topic = name === "help" ? COMMANDS.find((c) => c.name === rest[0]) : undefined;
    process.stdout.write(`${topic ? commandHelp(topic) : overview()}\n`);
    return name === undefined ? 2 : 0;
  }
  try {
    const command = COMMANDS.find((c) => c.name === name);
    if (!command) throw new UsageError(`unknown command '${name}'. Try 'hearth --help'.`);
    const { values, positionals } = parseCommandArgs(command, rest, COMMANDS);
    if (values.help) {
      process.stdout.write(`${commandHelp(command)}\n`);
      return 0;
    }
    const filled = applyUserConfig(values, Object.keys(command.options), command.modelRole, readUserConfig());
    if (filled.length && (values as { verbose?: boolean }).verbose)
      process.stderr.write(`hearth: ${filled.map((f) => `--${f}`).join(", ")} from ${userConfigPath()}\n`);
    return await command.run(values, positionals);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`hearth: ${terminalSafe(error.message)}\n`);
    return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`hearth: ${terminalSafe(e instanceof Error ? e.message : String(e))}\n`);
    process.exit(1);
  },
);
