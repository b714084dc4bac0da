// The simulated managed-instance network on loopback: resolvers serving the
// MI zone, the gateway (and redirect node) speaking TDS, a PKI whose CRL and
// OCSP responders answer over HTTP, and the management endpoint's ports.
// Every address lives in one 127.x.y.0/24 block so tests can run several
// networks side by side; no root is needed (all ports are above 1024).
//
//   <block>.4    the ILB / gateway, TDS on 1433         <block>.5    the redirect node (11000)
//   <block>.53   the custom resolver                   <block>.54   a second, stale resolver
//   <block>.63   the "Azure" resolver                  <block>.80   CRL, OCSP and CA-issuer responders
//   <block>.81   nothing (the revocation hosts' address when egress is blocked)
//   <block>.200  the management endpoint
//
// The platform's revocation endpoints keep their real host names and paths
// (REVOCATION_ENDPOINTS); the simulated DNS points those names at the
// responders, which serve a real CRL at the CRL paths and answer OCSP there.
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConfigLayer } from '../config/schema.js';
import { formatEndpoint, type Endpoint } from '../net/endpoint.js';
import { GATEWAY_PORT, REDIRECT_PORTS, REVOCATION_ENDPOINTS } from '../requirements/platform.js';
import { startDnsServer, type SimDnsServer, type SimRecord } from './dns-server.js';
import { certFor, makeGatewayCerts } from './gateway-certs.js';
import { buildMiZone, documentationAddress, miZoneNames, nodeName as nodeNameOf, REQUIRED_DNS_NAMES, requiredDnsRecords } from './mi-zone.js';
import { startLoopbackPorts } from './ports.js';
import { REVOCATION_SCENARIOS } from './revocation-responders.js';
import type { Scenario } from './scenarios.js';
import { findTdsScenario, SIM_SQL_LOGIN, startTdsScenario } from './tds-scenarios.js';
import { simConfigLayer, simSecretsEnv, type SimNetworkInfo } from './network-info.js';
import { freetdsConf, toolCommands } from './tool-commands.js';

export interface SimNetworkOptions {
  readonly scenario: Scenario;
  /** The first three octets of the block, e.g. "127.100.0". */
  readonly block: string;
  readonly miName?: string;
  readonly zoneId?: string;
  readonly region?: string;
  /** The slow-PRELOGIN delay (ms); keep it above the diagnosis timeout. */
  readonly slowMs?: number;
  /** Where the management name points instead of <block>.200 (e.g. a network namespace whose firewall drops the ports). */
  readonly managementAddress?: string;
}

export interface SimNetwork {
  /** Everything about the network as data (what `demo --serve --json` prints). */
  readonly info: SimNetworkInfo;
  readonly fqdn: string;
  readonly subnet: string;
  readonly resolvers: readonly Endpoint[];
  readonly azureResolver?: Endpoint | undefined;
  /** A per-check deadline (ms) that suits the scenario: long enough for its slow-but-working peers. */
  readonly suggestedTimeoutMs: number;
  /** Settings that point a diagnosis at this network (and fence it to loopback). */
  configLayer(): ConfigLayer;
  /** Secrets the scenario's login needs, as the environment would give them. */
  secretsEnv(): Record<string, string>;
  close(): Promise<void>;
}

/** An address that is public (TEST-NET-3, never routed) for the "public answer" scenario. */
const PUBLIC_DOC_ADDRESS = '203.0.113.10';
/** The redirect node listens on the first port of the redirect range. */
const NODE_PORT = REDIRECT_PORTS.min;
/** Short enough that failing scenarios finish quickly, long enough for loopback peers under load. */
const DEFAULT_SIM_TIMEOUT_MS = 1500;

type Closer = () => Promise<unknown>;

export async function startSimNetwork(opts: SimNetworkOptions): Promise<SimNetwork> {
  const { scenario, block } = opts;
  const closers: Closer[] = [];
  const closeAll = async (): Promise<void> => { await Promise.allSettled(closers.reverse().map((c) => c())); };
  try {
    return await build(opts, scenario, block, closers, closeAll);
  } catch (err) {
    await closeAll();
    throw err;
  }
}

async function build(opts: SimNetworkOptions, scenario: Scenario, block: string, closers: Closer[], closeAll: () => Promise<void>): Promise<SimNetwork> {
  const params = {
    miName: opts.miName ?? 'sim-mi', zoneId: opts.zoneId ?? '0a1b2c3d4e5f', region: opts.region ?? 'westeurope',
    ilbAddress: `${block}.4`, managementAddress: opts.managementAddress ?? `${block}.200`, vnetLabel: !scenario.dns.noVnetLabel,
  };
  const names = miZoneNames(params);
  const nodeName = nodeNameOf(names);
  // As on a real instance: the gateway's certificate names the zone (wildcard) and the instance, the node's only the node.
  const gatewayNames = [`*.${params.zoneId}.database.windows.net`, names.vnetLocal];

  // PKI and responders first: the certificates carry the responders' URLs.
  const revocationName = scenario.revocation ?? 'good';
  const revocation = REVOCATION_SCENARIOS.find((r) => r.name === revocationName);
  if (!revocation) throw new Error(`no revocation scenario "${revocationName}"`);
  const pkiInstance = await revocation.setup({ host: `${block}.80`, hostnames: gatewayNames });
  closers.push(() => pkiInstance.close());
  // Sign the CRLs now, not while the first diagnosis waits on the gateway's TLS.
  await Promise.all([pkiInstance.pki.crl('root'), pkiInstance.pki.crl('intermediate')]);
  const certs = await makeGatewayCerts(gatewayNames, pkiInstance.pki, [`*.${names.nodeDomain}`]);
  // The valid leaf is the revocation scenario's, sent with exactly the chain that scenario says (maybe the leaf alone).
  const gatewayCerts = { ...certs, valid: { ...pkiInstance.leaf, chainPem: pkiInstance.chainPem.join('\n') } };

  const tempDir = await mkdtemp(join(tmpdir(), 'miprobe-sim-'));
  closers.push(() => rm(tempDir, { recursive: true, force: true }));
  const caFile = join(tempDir, 'sim-root.pem');
  await writeFile(caFile, certs.caPem, { mode: 0o644 });
  // Other processes (tsql, openssl, a user's application under another account) read the root too.
  await chmod(tempDir, 0o755);
  const sqlPasswordFile = join(tempDir, 'sql-password');
  await writeFile(sqlPasswordFile, SIM_SQL_LOGIN.password, { mode: 0o600 });

  // The gateway on the ILB address, and its redirect node.
  const tds = findTdsScenario(scenario.tds ?? 'proxy-healthy');
  if (!tds) throw new Error(`no gateway scenario "${scenario.tds ?? ''}"`);
  const running = await startTdsScenario(tds, {
    host: `${block}.4`, port: GATEWAY_PORT, instanceName: names.vnetLocal, nodeName, nodeHost: `${block}.5`, nodePort: NODE_PORT,
    slowMs: opts.slowMs ?? 5000,
    certs: { valid: certFor(gatewayCerts, 'valid'), 'wrong-host': certFor(certs, 'wrong-host'), expired: certFor(certs, 'expired'),
      untrusted: certFor(certs, 'untrusted'), node: certFor(certs, 'node') },
  });
  closers.push(() => running.close());

  if (scenario.managementOpen?.length) {
    const ports = await startLoopbackPorts(params.managementAddress, scenario.managementOpen);
    closers.push(() => ports.close());
  }

  // Platform revocation endpoints: the real host names and paths, served by the simulated responders on their port
  // (or by nothing at all when the scenario blocks the way out).
  const responderHost = pkiInstance.egressBlocked ? `${block}.81` : pkiInstance.responders.host;
  const revocationUrls = REVOCATION_ENDPOINTS.map((u) => {
    const url = new URL(u);
    url.port = String(pkiInstance.responders.port);
    return url.toString();
  });
  const revocationHosts = new Set(revocationUrls.map((u) => new URL(u).hostname));
  const addressFor = (name: string, i: number): string => (revocationHosts.has(name) ? responderHost : documentationAddress(name, i));
  const required = REQUIRED_DNS_NAMES.filter((n) => !scenario.dns.missingRequired?.includes(n));
  const extras: SimRecord[] = [{ name: nodeName, type: 'A', data: `${block}.5` }];
  const goodZone: SimRecord[] = [...buildMiZone(params), ...requiredDnsRecords(REQUIRED_DNS_NAMES, addressFor), ...extras];

  const requiredRecords = requiredDnsRecords(required, addressFor);
  let customZone: SimRecord[] = [...buildMiZone({ ...params, ilbAddress: scenario.dns.publicAnswer ? PUBLIC_DOC_ADDRESS : params.ilbAddress }),
    ...requiredRecords, ...extras];
  if (scenario.dns.cnameLoop) {
    customZone = [{ name: names.vnetLocal, type: 'CNAME', data: names.target }, { name: names.target, type: 'CNAME', data: `loop.${names.target}` },
      { name: `loop.${names.target}`, type: 'CNAME', data: names.vnetLocal }, ...requiredRecords, ...extras];
  }
  const startResolver = async (host: string, records: SimRecord[], withBehaviour: boolean): Promise<SimDnsServer> => {
    const behaviour = withBehaviour ? scenario.dns.behaviour : undefined;
    const server = await startDnsServer({ host, port: 0, records, behaviours: behaviour ? { [names.vnetLocal]: behaviour } : {} });
    closers.push(() => server.close());
    return server;
  };
  const resolvers = [(await startResolver(`${block}.53`, customZone, true)).endpoint];
  if (scenario.dns.disagreeingResolver) {
    // A second resolver with a stale copy: the instance "moved" but this copy did not.
    const stale = [...buildMiZone({ ...params, ilbAddress: '10.99.0.4' }), ...requiredRecords, ...extras];
    resolvers.push((await startResolver(`${block}.54`, stale, false)).endpoint);
  }
  const azure = scenario.dns.azureResolver ? (await startResolver(`${block}.63`, goodZone, false)).endpoint : undefined;

  const subnet = `${block}.0/26`;
  const suggestedTimeoutMs = scenario.revocation ? Math.max(DEFAULT_SIM_TIMEOUT_MS, Math.min(pkiInstance.timeoutMs, 3000)) : DEFAULT_SIM_TIMEOUT_MS;
  const node = running.node?.endpoint;
  const where = {
    scenario: scenario.name, fqdn: names.vnetLocal, subnet, resolvers: resolvers.map(formatEndpoint),
    ...(azure ? { azureResolver: formatEndpoint(azure) } : {}),
    gateway: formatEndpoint(running.gateway.endpoint),
    nodeName: node ? nodeName : null, node: node ? formatEndpoint(node) : null,
    redirectTo: running.routing ? `${running.routing.server}:${running.routing.port}` : null,
    caFile, freetdsConf: join(tempDir, 'freetds.conf'), sqlPasswordFile,
    revocationUrls, login: scenario.login ?? tds.login, strict: tds.strict === true, sqlLogin: { ...SIM_SQL_LOGIN }, suggestedTimeoutMs,
    expectFindings: [...scenario.expectFindings],
  };
  await writeFile(where.freetdsConf, freetdsConf(where), { mode: 0o644 });
  const info: SimNetworkInfo = { ...where, commands: toolCommands(where) };
  return {
    info, fqdn: names.vnetLocal, subnet, resolvers, azureResolver: azure, suggestedTimeoutMs,
    configLayer: (): ConfigLayer => simConfigLayer(info),
    secretsEnv: (): Record<string, string> => simSecretsEnv(info),
    close: closeAll,
  };
}
