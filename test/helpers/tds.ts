// Runs the data-path diagnosis (path, login, redirect) the way `diagnose` will,
// against a running simulated scenario, and returns evidence and finding ids.
import { AddressGuard } from '../../src/net/guard.js';
import { dataPathChecks, dataPathFindings, type DataPathEvidence } from '../../src/diagnosis/datapath-rules.js';
import type { Finding } from '../../src/diagnosis/finding.js';
import type { CheckLine } from '../../src/diagnosis/check.js';
import { probeDataPath } from '../../src/probes/datapath.js';
import { probeLogin } from '../../src/probes/login.js';
import { probeRedirect } from '../../src/probes/redirect.js';
import { testContext } from './context.js';
import { SIM_SQL_LOGIN, type TdsScenario } from '../../src/sim/tds-scenarios.js';

export const FQDN = 'mi1.0a1b2c3d4e5f.database.windows.net';
export const NODE_NAME = 'a1b2c3d4e5f6.tr1234.westeurope1-a.worker.database.windows.net';
export const loopbackGuard = (): AddressGuard => AddressGuard.fromList('127.14.0.0/16');

export interface DiagnoseRun {
  readonly evidence: DataPathEvidence;
  readonly findings: Finding[];
  readonly ids: string[];
  readonly checks: CheckLine[];
  readonly seconds: number;
}

export async function diagnoseDataPath(s: TdsScenario, o: {
  address: string; port: number; caPem: string; hosts: Record<string, string>; timeoutMs: number;
}): Promise<DiagnoseRun> {
  const started = performance.now();
  const guard = loopbackGuard();
  const ctx = testContext(guard, o.timeoutMs, { hosts: o.hosts });
  const common = { host: FQDN, address: o.address, port: o.port, strict: s.strict === true, ca: o.caPem };
  const [path, login] = await Promise.all([
    probeDataPath(common, ctx),
    probeLogin({ ...common, mode: s.login, user: SIM_SQL_LOGIN.user, password: SIM_SQL_LOGIN.password, dummyIntervalMs: 0 }, ctx),
  ]);
  const redirect = login.routing ? await probeRedirect({ routing: login.routing, strict: s.strict === true, ca: o.caPem }, ctx) : undefined;
  const evidence: DataPathEvidence = { path, login, ...(redirect ? { redirect } : {}) };
  const findings = dataPathFindings(evidence);
  return { evidence, findings, ids: [...new Set(findings.map((f) => f.id))].sort(), checks: dataPathChecks(evidence), seconds: (performance.now() - started) / 1000 };
}
