// A simulated network started the way a user starts one: `miprobe demo --serve --json`
// in a child process (the built executable), stopped at teardown.
import type { Test } from 'tap';
import { launcherPath } from '../../src/launcher.js';
import { startSimChild, type SimChild } from '../../src/sim/child.js';

export async function serveScenario(t: Test, scenario: string): Promise<SimChild> {
  const launcher = launcherPath();
  if (!launcher) throw new Error('dist/cli/launch.cjs is missing: run `npm run build` first');
  const child = await startSimChild(launcher, scenario, { timeoutMs: 90_000 });
  t.teardown(() => child.close());
  return child;
}

/** "127.100.0.4:1433" -> ["127.100.0.4", 1433] */
export function hostPort(endpoint: string): [string, number] {
  const at = endpoint.lastIndexOf(':');
  return [endpoint.slice(0, at), Number(endpoint.slice(at + 1))];
}
