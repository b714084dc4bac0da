// The data-path part of the plan, in two stages so that tedious' CPU work never
// sits on another probe's clock: first TCP, PRELOGIN and TLS to the gateway (and
// the public endpoint, when asked), then the login (when asked), the redirect it
// reveals and a sample of the redirect range.
import { probeDataPath, type DataPathResult } from '../probes/datapath.js';
import type { LoginMode } from '../probes/login.js';
import { dnsHostResolver, probeRedirect, REDIRECT_PORT_MAX, REDIRECT_PORT_MIN } from '../probes/redirect.js';
import { scanPorts } from '../probes/port-scan.js';
import { PUBLIC_ENDPOINT_PORT } from '../requirements/platform.js';
import { probeWithFailover } from '../probes/dns.js';
import type { ProbeContext } from '../probes/context.js';
import { DATAPATH } from './catalog/datapath.js';
import type { DataPathEvidence } from './datapath-rules.js';
import { finding, type Finding } from './finding.js';
import type { TargetName } from './target.js';

export interface DataPathSettings {
  readonly login: LoginMode;
  readonly user?: string | undefined;
  /** Secrets: used for the login only, never put in a result. */
  readonly password?: string | undefined;
  readonly token?: string | undefined;
  /** Extra trusted roots (PEM). */
  readonly ca?: string | undefined;
  readonly strict: boolean;
  readonly public: boolean;
}

/** Five ports spread over the redirect range. */
const REDIRECT_SAMPLE: readonly number[] = [0, 0.25, 0.5, 0.75, 1].map((f) => Math.round(REDIRECT_PORT_MIN + f * (REDIRECT_PORT_MAX - REDIRECT_PORT_MIN)));

/** The first stage: what a client sees before it logs in. */
export interface GatewayRun {
  readonly path: DataPathResult;
  readonly public?: DataPathResult;
  /** The public endpoint name and what resolving it gave, when --public. */
  readonly publicName?: { readonly host: string; readonly addresses: readonly string[]; readonly error?: string };
  readonly extraFindings: readonly Finding[];
}

export interface DataPathRun {
  readonly evidence: DataPathEvidence & { readonly path: DataPathResult };
  /** The public endpoint name and what resolving it gave, when --public. */
  readonly publicName?: { readonly host: string; readonly addresses: readonly string[]; readonly error?: string };
  readonly extraFindings: readonly Finding[];
}

async function probePublic(target: TargetName, s: DataPathSettings, ctx: ProbeContext)
  : Promise<{ path?: DataPathResult; name?: DataPathRun['publicName']; findings: Finding[] }> {
  const host = target.publicName;
  if (!s.public || !host || target.kind !== 'vnet-local') return { findings: [] };
  const resolved = await probeWithFailover(host, ctx);
  const address = resolved.addresses[0];
  if (!resolved.ok || address === undefined) {
    const error = resolved.error ? `${resolved.error.code}: ${resolved.error.message}` : 'no address';
    return { name: { host, addresses: [], error }, findings: [finding(DATAPATH.publicUnresolved, `${host}: ${error}`)] };
  }
  const path = await probeDataPath({ host, address, port: PUBLIC_ENDPOINT_PORT, strict: s.strict, ca: s.ca, guard: ctx.guard,
    timeoutMs: ctx.timeoutMs, signal: ctx.signal });
  return { path, name: { host, addresses: resolved.addresses }, findings: [] };
}

/** Stage one: TCP, PRELOGIN and TLS to the gateway, and to the public endpoint when asked. */
export async function probeGateway(target: TargetName, address: string, s: DataPathSettings, ctx: ProbeContext): Promise<GatewayRun> {
  const [path, pub] = await Promise.all([
    probeDataPath({ host: target.fqdn, address, port: target.port, strict: s.strict, ca: s.ca, guard: ctx.guard, timeoutMs: ctx.timeoutMs,
      signal: ctx.signal }),
    probePublic(target, s, ctx),
  ]);
  return { path, ...(pub.path ? { public: pub.path } : {}), ...(pub.name ? { publicName: pub.name } : {}), extraFindings: pub.findings };
}

/** Stage two: the login (tedious, loaded beforehand), the redirect it reveals, and a sample of the redirect range on the node. */
export async function loginAndRedirect(target: TargetName, address: string, gateway: GatewayRun, s: DataPathSettings, ctx: ProbeContext)
  : Promise<DataPathRun> {
  const common = { strict: s.strict, ca: s.ca, guard: ctx.guard, timeoutMs: ctx.timeoutMs, signal: ctx.signal };
  const resolveHost = dnsHostResolver({ servers: ctx.resolvers.map((r) => r.endpoint), guard: ctx.guard, retries: ctx.dnsRetries,
    timeoutMs: ctx.timeoutMs });
  const login = s.login === 'none' ? undefined : await import('../probes/login.js').then(({ probeLogin }) => probeLogin({ ...common,
    host: target.fqdn, mode: s.login, address, port: target.port, user: s.user, password: s.password, token: s.token, resolveHost }));
  const redirect = login?.routing ? await probeRedirect({ ...common, routing: login.routing, resolveHost }) : undefined;
  // The node answered on one port; a sample across the range shows whether a firewall lets only part of it through.
  const nodeAddress = redirect?.ok ? redirect.path?.address : undefined;
  const redirectPorts = nodeAddress !== undefined
    ? await scanPorts(nodeAddress, REDIRECT_SAMPLE, { guard: ctx.guard, timeoutMs: ctx.timeoutMs, signal: ctx.signal,
      concurrency: REDIRECT_SAMPLE.length, ratePerSecond: 0 })
    : undefined;
  return {
    evidence: { path: gateway.path, ...(login ? { login } : {}), ...(redirect ? { redirect } : {}), ...(redirectPorts ? { redirectPorts } : {}),
      ...(gateway.public ? { public: gateway.public } : {}) },
    ...(gateway.publicName ? { publicName: gateway.publicName } : {}),
    extraFindings: gateway.extraFindings,
  };
}
