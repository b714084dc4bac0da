// Test helper: a simulated endpoint in a network namespace (see src/sim/ports.ts),
// removed at teardown; `netnsSkip()` gives the reason to skip where that is impossible.
import type { Test } from 'tap';
import { netnsSupport, startNetnsEndpoint, type NetnsEndpoint, type NetnsEndpointOptions } from '../../src/sim/ports.js';

let support: Promise<{ ok: true } | { ok: false; reason: string }> | undefined;

/** false when namespaces can be used here, else the reason (for `{ skip: reason }`). */
export async function netnsSkip(): Promise<false | string> {
  support ??= netnsSupport();
  const s = await support;
  return s.ok ? false : `needs a network namespace: ${s.reason}`;
}

export async function startTestNetns(t: Test, opts: NetnsEndpointOptions): Promise<NetnsEndpoint> {
  const ep = await startNetnsEndpoint(opts);
  t.teardown(() => ep.close());
  return ep;
}
