// The legacy management endpoint's built-in firewall, tested from here: the
// management ports (9000, 9003, 1438, 1440, 1452) are open in the NSG but the
// endpoint's own firewall admits only Microsoft ranges, so from a customer
// network they should be filtered or closed. Instances enrolled in the
// November 2022 feature wave have no management endpoint ("not applicable").
//
//   probeManagementPorts: Probe<ManagementPortsInput, ManagementPortsResult>   never throws
//   managementNotApplicable(reason): ManagementPortsResult
import { MANAGEMENT_PORTS } from '../requirements/platform.js';
import { secondsSince } from '../net/deadline.js';
import { scanPorts, type PortProbe, type PortScanResult } from '../net/port-scan.js';
import type { Probe } from './context.js';

/** The legacy management endpoint's ports (src/requirements/platform.ts). */
export const DEFAULT_MANAGEMENT_PORTS: readonly number[] = MANAGEMENT_PORTS;

export interface ManagementPortsInput {
  readonly address: string;
  /** The management host name the address was resolved from (for the report). */
  readonly host?: string;
  readonly ports?: readonly number[];
  /** `--scan-ports`: more ports to check for "nothing else is open" (management ports are left out). */
  readonly scanPorts?: readonly number[];
  readonly scan?: { readonly concurrency?: number; readonly ratePerSecond?: number; readonly deadlineMs?: number };
}

export type ManagementPortsResult =
  | { readonly ok: true; readonly applicable: true; readonly address: string; readonly host?: string;
      readonly ports: readonly PortProbe[]; readonly seconds: number; readonly scan?: PortScanResult }
  | { readonly ok: true; readonly applicable: false; readonly reason: string }
  | { readonly ok: false; readonly applicable: true; readonly address: string; readonly host?: string;
      readonly code: 'GUARD_DENIED' | 'BAD_ADDRESS' | 'ABORTED'; readonly message: string; readonly seconds: number };

export function managementNotApplicable(reason: string): ManagementPortsResult {
  return { ok: true, applicable: false, reason };
}

/** Every management port at once (each bounded by the probe's deadline), then the --scan-ports list. */
export const probeManagementPorts: Probe<ManagementPortsInput, ManagementPortsResult> = async (input, ctx) => {
  const { address } = input;
  const opts = { ...input, guard: ctx.guard, timeoutMs: ctx.timeoutMs, signal: ctx.signal };
  const started = performance.now();
  const ports = [...new Set(opts.ports ?? DEFAULT_MANAGEMENT_PORTS)];
  const host = opts.host !== undefined ? { host: opts.host } : {};
  // Every management port at once: five connections, each bounded by timeoutMs.
  const main = await scanPorts(address, ports, { guard: opts.guard, timeoutMs: opts.timeoutMs, concurrency: ports.length,
    ratePerSecond: 0, ...(opts.signal ? { signal: opts.signal } : {}) });
  if (!main.ok) return { ok: false, applicable: true, address, ...host, code: main.code, message: main.message, seconds: main.seconds };
  if (main.skipped.length > 0) {
    return { ok: false, applicable: true, address, ...host, code: 'ABORTED', seconds: secondsSince(started),
      message: `aborted before ports ${main.skipped.join(', ')} were probed` };
  }
  let scan: PortScanResult | undefined;
  const extra = (opts.scanPorts ?? []).filter((p) => !ports.includes(p));
  if (extra.length > 0) {
    scan = await scanPorts(address, extra, { guard: opts.guard, timeoutMs: opts.timeoutMs,
      ...(opts.scan?.concurrency !== undefined ? { concurrency: opts.scan.concurrency } : {}),
      ...(opts.scan?.ratePerSecond !== undefined ? { ratePerSecond: opts.scan.ratePerSecond } : {}),
      // The probe's deadline bounds the scan too (one timeout, one meaning): ports left when it ends are reported as not probed.
      deadlineMs: opts.scan?.deadlineMs ?? opts.timeoutMs,
      ...(opts.signal ? { signal: opts.signal } : {}) });
  }
  return { ok: true, applicable: true, address, ...host, ports: main.ports, seconds: secondsSince(started), ...(scan ? { scan } : {}) };
};
