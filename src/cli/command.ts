/**
 * The shape of a `hako` command: its docker-style usage, flags, argument count, and the function
 * that runs it. Commands live one per module under commands/ and are imported only when invoked.
 */
import type { FlagDef, Flags } from './flags.js';
import type { Cli } from './cli.js';

export interface ArgRule {
  min?: number;
  max?: number;
}

export interface CommandSpec {
  /** After the command path in "Usage:": "[OPTIONS] IMAGE [COMMAND] [ARG...]". */
  use: string;
  short: string;
  /** The "Aliases:" line of the help (docker names with `hako`). */
  aliases?: string;
  /** Printed after the options in the help (a command with sub-commands lists them: `hako compose`); given the command's path. */
  epilog?: (path: string) => string;
  flags: FlagDef[];
  args?: ArgRule;
  /** false for run/create/exec: flags after the first argument belong to the container command. */
  interspersed?: boolean;
}

export interface Command {
  spec: CommandSpec;
  /** Resolves with the exit status (default 0); throws StatusError or client errors. */
  run(cli: Cli, flags: Flags, args: string[]): Promise<number | void>;
}
