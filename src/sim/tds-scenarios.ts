// Data-path scenarios for `miprobe demo` and the tests: what the gateway does,
// which certificate it presents, whether it redirects, how the diagnosis logs
// in, and which findings the diagnosis must produce.
//
// API:
//   TDS_SCENARIOS: readonly TdsScenario[]
//   findTdsScenario(name) -> TdsScenario | undefined
//   startTdsScenario(scenario, opts: TdsScenarioOptions) -> Promise<RunningTdsScenario>
import { PreloginToken, type PreloginVersion } from '../net/tds/prelogin.js';
import { REDIRECT_PORTS } from '../requirements/platform.js';
import type { LoginMode } from '../config/schema.js';
import { startTdsGateway, type TdsBehaviour, type TdsGateway, type TdsGatewayOptions } from './tds-gateway.js';

/** The gateway's certificates by kind; 'node' is the redirect node's, which names only the node. */
export type CertKind = 'valid' | 'wrong-host' | 'expired' | 'untrusted' | 'node';

export interface TdsScenario {
  readonly name: string;
  readonly description: string;
  readonly behaviour: TdsBehaviour;
  readonly cert: CertKind;
  /** The gateway redirects to a node that is listening ('healthy') or not ('blocked'). */
  readonly redirect?: 'healthy' | 'blocked';
  /** How the diagnosis logs in; sql uses SIM_SQL_LOGIN. */
  readonly login: LoginMode;
  /** Probe with TDS 8 strict. */
  readonly strict?: boolean;
  /** How the server answers PRELOGIN (version, flavour, left-out options, the strict ENCRYPTION byte); default MI's gateway. */
  readonly server?: Pick<TdsGatewayOptions, 'version' | 'flavour' | 'omitOptions' | 'strictEncryption' | 'enhancedRoutingToAll'>;
  /** A `\instance` suffix on the routed node name. */
  readonly routingInstance?: string;
  /** Finding ids the diagnosis must produce (exactly these, among the data-path ids). */
  readonly expected: readonly string[];
}

/** The simulated engine's SQL login (a demo value, not a secret). */
export const SIM_SQL_LOGIN = { user: 'miprobe', password: 'Sim-Passw0rd-4-demo' } as const;

export const TDS_SCENARIOS: readonly TdsScenario[] = [
  { name: 'proxy-healthy', description: 'Proxy connection type: PRELOGIN, TLS in TDS 7.x, dummy login rejected by the engine with 18456',
    behaviour: 'healthy', cert: 'valid', login: 'dummy', expected: ['LOGIN-012'] },
  { name: 'proxy-healthy-strict', description: 'Proxy, probed with TDS 8 strict (TLS first, ALPN tds/8.0), SQL login and SELECT 1',
    behaviour: 'healthy', cert: 'valid', login: 'sql', strict: true, expected: [] },
  { name: 'strict-encryption-on', description: 'TDS 8 strict; inside TLS the server answers PRELOGIN with ENCRYPTION 0x01 (ENCRYPT_ON), which TDS 8 ignores',
    behaviour: 'healthy', cert: 'valid', login: 'sql', strict: true, server: { strictEncryption: 0x01 }, expected: [] },
  { name: 'strict-encryption-req', description: 'TDS 8 strict; inside TLS the server answers PRELOGIN with ENCRYPTION 0x03 (ENCRYPT_REQ), which TDS 8 ignores',
    behaviour: 'healthy', cert: 'valid', login: 'sql', strict: true, server: { strictEncryption: 0x03 }, expected: [] },
  { name: 'no-mars', description: 'The PRELOGIN answer leaves MARS out although the client sent it (as SQL Server 2000 did)',
    behaviour: 'healthy', cert: 'valid', login: 'dummy', server: { omitOptions: [PreloginToken.MARS] }, expected: ['LOGIN-012'] },
  { name: 'sql-server-2019', description: 'A SQL Server 2019 engine (15.0.4298.1) answers: no FEDAUTHREQUIRED, as SQL Server does not support it',
    behaviour: 'healthy', cert: 'valid', login: 'dummy', server: { version: v(15, 0, 4298, 1), flavour: 'sqlserver' }, expected: ['LOGIN-012'] },
  { name: 'sql-server-2022', description: 'A SQL Server 2022 engine (16.0.1000.6) answers, TDS 7.x and TDS 8',
    behaviour: 'healthy', cert: 'valid', login: 'dummy', server: { version: v(16, 0, 1000, 6), flavour: 'sqlserver' }, expected: ['LOGIN-012'] },
  { name: 'redirect-healthy', description: 'Redirect connection type: the gateway routes the login to a node on 11xxx, which answers with a certificate naming only the node',
    behaviour: 'redirect', cert: 'valid', redirect: 'healthy', login: 'dummy', expected: ['LOGIN-012', 'REDIRECT-005'] },
  { name: 'redirect-strict', description: 'Redirect with TDS 8 strict: SQL login through the node, whose certificate names only the node',
    behaviour: 'redirect', cert: 'valid', redirect: 'healthy', login: 'sql', strict: true, expected: ['REDIRECT-005'] },
  { name: 'redirect-instance-suffix', description: 'The routing ENVCHANGE names the node with a \\instance suffix, which drivers strip from the host and send on in LOGIN7',
    behaviour: 'redirect', cert: 'valid', redirect: 'healthy', login: 'dummy', routingInstance: 'MSSQLSERVER', expected: ['LOGIN-012', 'REDIRECT-005'] },
  { name: 'redirect-blocked', description: 'Redirect connection type, but the node port (11000-11999) is closed to the client',
    behaviour: 'redirect', cert: 'valid', redirect: 'blocked', login: 'dummy', expected: ['LOGIN-007', 'REDIRECT-001', 'REDIRECT-005'] },
  { name: 'redirect-enhanced-routing', description: 'A gateway that answers with Enhanced Routing (ENVCHANGE 21) although the client did not ask for it; drivers skip it',
    behaviour: 'redirect', cert: 'valid', redirect: 'healthy', login: 'dummy', server: { enhancedRoutingToAll: true }, expected: ['LOGIN-007', 'REDIRECT-007'] },
  { name: 'login-failed', description: 'The network path works; the engine rejects the SQL login (18456)',
    behaviour: 'login-failed', cert: 'valid', login: 'sql', expected: ['LOGIN-001'] },
  { name: 'encryption-off', description: 'Something answers PRELOGIN with ENCRYPT_NOT_SUP: a driver logs in without TLS',
    behaviour: 'encryption-off', cert: 'valid', login: 'dummy', expected: ['TDS-005', 'LOGIN-011', 'LOGIN-012'] },
  { name: 'strict-only', description: 'The server accepts only TDS 8 strict; a TDS 7.x PRELOGIN is reset',
    behaviour: 'strict-only', cert: 'valid', login: 'dummy', expected: ['TDS-004', 'LOGIN-007'] },
  { name: 'cert-wrong-host', description: 'The certificate is for another host name',
    behaviour: 'healthy', cert: 'wrong-host', login: 'dummy', expected: ['TLS-004', 'LOGIN-009'] },
  { name: 'cert-expired', description: 'The certificate has expired',
    behaviour: 'healthy', cert: 'expired', login: 'dummy', expected: ['TLS-003', 'LOGIN-009'] },
  { name: 'cert-untrusted', description: 'The certificate chains to an unknown root (a TLS-inspecting proxy)',
    behaviour: 'healthy', cert: 'untrusted', login: 'dummy', expected: ['TLS-002', 'LOGIN-009'] },
  { name: 'slow-prelogin', description: 'The gateway accepts TCP but answers PRELOGIN only after the deadline',
    behaviour: 'slow-prelogin', cert: 'valid', login: 'dummy', expected: ['TDS-001', 'LOGIN-006'] },
  { name: 'reset-after-prelogin', description: 'The connection is reset right after the PRELOGIN answer (inspecting firewall)',
    behaviour: 'reset-after-prelogin', cert: 'valid', login: 'dummy', expected: ['TLS-001', 'LOGIN-007'] },
  { name: 'garbage', description: 'Another service (a web server) listens on the port and answers PRELOGIN with HTTP',
    behaviour: 'garbage', cert: 'valid', login: 'none', expected: ['TDS-003'] },
  { name: 'absurd-length', description: 'The answer is a packet header claiming 65,535 bytes and no body',
    behaviour: 'absurd-length', cert: 'valid', login: 'none', expected: ['TDS-003'] },
  { name: 'never-answers', description: 'TCP is accepted and nothing is ever sent back',
    behaviour: 'silent', cert: 'valid', login: 'none', expected: ['TDS-001'] },
];

function v(major: number, minor: number, build: number, subbuild: number): PreloginVersion {
  return { major, minor, build, subbuild };
}

export function findTdsScenario(name: string): TdsScenario | undefined {
  return TDS_SCENARIOS.find((s) => s.name === name);
}

export interface ScenarioCert {
  readonly certPem: string;
  readonly keyPem: string;
  readonly chainPem?: string;
}

export interface TdsScenarioOptions {
  /** Gateway address and port (e.g. the ILB address, 1433). */
  readonly host: string;
  readonly port: number;
  /** The instance FQDN the gateway serves. */
  readonly instanceName: string;
  /** Certificates by kind; each must name `instanceName` except 'wrong-host' and 'node' (which names only the node). */
  readonly certs: Readonly<Record<CertKind, ScenarioCert>>;
  /** Redirect node: the name in the routing ENVCHANGE (resolve it to nodeHost in the sim DNS), address and port. */
  readonly nodeName?: string;
  readonly nodeHost?: string;
  readonly nodePort?: number;
  /** slow-prelogin delay (ms); default 5000. */
  readonly slowMs?: number;
}

export interface RunningTdsScenario {
  readonly scenario: TdsScenario;
  readonly gateway: TdsGateway;
  readonly node?: TdsGateway;
  /** What the routing ENVCHANGE points at. */
  readonly routing?: { readonly server: string; readonly port: number };
  close(): Promise<void>;
}

export async function startTdsScenario(scenario: TdsScenario, opts: TdsScenarioOptions): Promise<RunningTdsScenario> {
  const cert = opts.certs[scenario.cert];
  let node: TdsGateway | undefined;
  let routing: { server: string; port: number } | undefined;
  if (scenario.redirect) {
    const server = opts.nodeName ?? opts.nodeHost ?? opts.host;
    const port = opts.nodePort ?? REDIRECT_PORTS.min;
    routing = { server: scenario.routingInstance ? `${server}\\${scenario.routingInstance}` : server, port };
    if (scenario.redirect === 'healthy') {
      node = await startTdsGateway({ host: opts.nodeHost ?? opts.host, port, ...opts.certs.node, ...scenario.server, behaviour: 'node',
        instanceName: opts.instanceName, logins: { [SIM_SQL_LOGIN.user]: SIM_SQL_LOGIN.password } });
    }
  }
  const gateway = await startTdsGateway({
    host: opts.host, port: opts.port, ...cert, ...scenario.server, behaviour: scenario.behaviour, instanceName: opts.instanceName,
    logins: { [SIM_SQL_LOGIN.user]: SIM_SQL_LOGIN.password },
    ...(routing ? { redirectTo: routing } : {}), ...(opts.slowMs !== undefined ? { slowMs: opts.slowMs } : {}),
  }).catch(async (err: unknown) => {
    await node?.close();
    throw err;
  });
  return {
    scenario, gateway, ...(node ? { node } : {}), ...(routing ? { routing } : {}),
    close: async () => {
      await Promise.all([gateway.close(), node?.close()]);
    },
  };
}
