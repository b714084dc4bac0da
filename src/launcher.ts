// Where the installed executable is, for commands that start miprobe again in a child
// process (`demo` runs its simulated network in one). This file sits one level below
// the package root in src/ and dist/, and the bundle dist/miprobe.cjs does too, so the
// same relative path holds in all three.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** dist/cli/launch.cjs, or undefined when the package has not been built. */
export function launcherPath(): string | undefined {
  const path = fileURLToPath(new URL('../dist/cli/launch.cjs', import.meta.url));
  return existsSync(path) ? path : undefined;
}
