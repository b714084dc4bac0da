// What a command needs from its surroundings, so tests can run commands
// in-process and read what they printed.

export interface CliIo {
  readonly stdout: { write(text: string): unknown; isTTY?: boolean };
  readonly stderr: { write(text: string): unknown; isTTY?: boolean };
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Aborted on SIGINT/SIGTERM (the agent and demo listen to it). */
  readonly signal?: AbortSignal;
}

/** A user mistake (bad flag, bad config, bad host name): one line on stderr, exit 2, no stack. */
export { UsageError } from '../errors.js';

export const EXIT_OK = 0;
export const EXIT_CRITICAL = 1;
export const EXIT_USAGE = 2;

/** A command: parses its own argv (after the command name) and returns the exit code. */
export type Command = (argv: readonly string[], io: CliIo) => Promise<number>;
