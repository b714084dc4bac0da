// Runs a CLI command in-process and captures what it printed.
import { Readable } from 'node:stream';
import type { Command } from '../../src/cli/io.js';

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export async function runCommand(command: Command, argv: readonly string[], stdin?: string): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const io = {
    stdout: { write: (t: string) => { stdout += t; return true; } },
    stderr: { write: (t: string) => { stderr += t; return true; } },
    env: {},
    ...(stdin !== undefined ? { stdin: Readable.from([Buffer.from(stdin)]) } : {}),
  };
  const code = await command(argv, io);
  return { code, stdout, stderr };
}
