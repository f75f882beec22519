import type { ParseArgsConfig } from 'node:util';

/** What the CLI hands a command. Commands never touch process.argv, stdout or process.exit. */
export interface CommandContext {
  /** The command as typed, e.g. "migrate deploy" (for messages and the audit trail). */
  commandName: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** --json: `data` is printed as JSON, progress goes to stderr. */
  json: boolean;
  /** stdin and stdout are terminals (prompts allowed). */
  interactive: boolean;
  /** A progress line (already redacted by the CLI). */
  log(line: string): void;
  warn(line: string): void;
  /** Asks yes/no in a terminal (only when `interactive`); false when the user declines or cancels. */
  confirm(message: string): Promise<boolean>;
  /** Asks the user to type `expected` (an environment's name) to go on; false on anything else. */
  typeToConfirm(message: string, expected: string): Promise<boolean>;
  /** Asks for a line of text in a terminal (only when `interactive`); undefined when cancelled or empty. */
  ask(message: string, placeholder?: string): Promise<string | undefined>;
}

export interface CommandOutput {
  exitCode: number;
  /** The machine-readable result (for --json). */
  data: unknown;
  /** The human-readable result. */
  text: string;
}

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

export interface ParsedArgs {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

export interface Command {
  usage: string;
  options: OptionSpec;
  /** Accepts positional arguments (otherwise any is a usage error). */
  positionals?: boolean;
  /** Reject unknown flags (default true). */
  strict?: boolean;
  run(ctx: CommandContext, args: ParsedArgs): Promise<CommandOutput>;
}
