// Data-path findings and check lines: pure functions of the data-path, login,
// redirect and public-endpoint probe results.
//
// API:
//   dataPathFindings(e: DataPathEvidence) -> Finding[]
//   dataPathChecks(e: DataPathEvidence) -> CheckLine[]
import type { DataPathResult, PreloginStage, TlsStage } from '../probes/datapath.js';
import type { LoginResult } from '../probes/login.js';
import type { RedirectResult } from '../probes/redirect.js';
import type { PortScanResult } from '../probes/port-scan.js';
import { PreloginToken } from '../net/tds/prelogin.js';
import { MISSING_INTERMEDIATE_ERROR } from './causes.js';
import { DATAPATH } from './catalog/datapath.js';
import type { CheckLine } from './check.js';
import { finding, type Finding } from './finding.js';

/** The public endpoint: its name as resolved, and the data path on 3342 when it resolved. */
export interface PublicEndpointResult {
  readonly host: string;
  readonly addresses: readonly string[];
  readonly error?: string;
  readonly path?: DataPathResult;
}

export interface DataPathEvidence {
  /** TCP/PRELOGIN/TLS to the VNet-local endpoint. */
  readonly path?: DataPathResult;
  readonly login?: LoginResult;
  readonly redirect?: RedirectResult;
  /** --public: the same probe to <mi>.public.<zone>...:3342. */
  readonly public?: DataPathResult;
  /** A sample of the redirect range 11000-11999 on the node the gateway redirected to. */
  readonly redirectPorts?: PortScanResult;
}

const EXPIRING_SECONDS = 14 * 86_400;

const KNOWN_PRELOGIN_TOKENS: readonly number[] = Object.values(PreloginToken);

function at(p: DataPathResult): string {
  return `${p.host} (${p.address}:${p.port})`;
}

/** The answer's option table as sent: name, and length when it is not the usual one. */
function preloginLayout(pre: Extract<PreloginStage, { ok: true }>): string {
  return pre.options.map((o) => `${o.name}(${o.length})`).join(' ');
}

/** Options whose token MS-TDS 2.2.6.5 does not define, raw (token, length, data in hex as the decoder kept it). */
function unknownOptionsText(pre: Extract<PreloginStage, { ok: true }>): string {
  const unknown = pre.options.filter((o) => !KNOWN_PRELOGIN_TOKENS.includes(o.token));
  return unknown.map((o) => `, unknown option 0x${o.token.toString(16).padStart(2, '0')} (${o.length} bytes${o.length > 0 ? `: ${o.hex}${o.hex.length < o.length * 2 ? '...' : ''}` : ''})`).join('');
}

/** ENCRYPTION as received; inside TDS 8 the value is ignored (MS-TDS 2.2.6.5), so it is shown, never judged. */
function encryptionText(pre: Extract<PreloginStage, { ok: true }>): string {
  const byte = pre.encryptionByte >= 0 ? `0x${pre.encryptionByte.toString(16).padStart(2, '0')} ` : '';
  const name = pre.encryptionByte >= 0 ? pre.encryption : 'no ENCRYPTION option';
  return pre.insideTls ? `inside TLS, ENCRYPTION ${byte}(${name}, ignored in TDS 8)` : `${byte ? `${name} (${byte.trim()})` : name}`;
}

function tcpFindings(p: DataPathResult, out: Finding[]): void {
  const t = p.tcp;
  if (t.ok) return;
  const evidence = `TCP to ${at(p)}: ${t.code}, ${t.message} after ${t.connectSeconds} s`;
  if (t.state === 'closed') out.push(finding(DATAPATH.tcpClosed, evidence));
  else if (t.state === 'filtered') out.push(finding(DATAPATH.tcpFiltered, evidence));
  else if (t.state === 'unreachable') out.push(finding(DATAPATH.tcpUnreachable, evidence));
  else out.push(finding(DATAPATH.tcpError, evidence));
}

function tlsFindings(tls: TlsStage, where: string, out: Finding[]): void {
  if (tls.ok) {
    if (tls.expiresInSeconds < EXPIRING_SECONDS) {
      out.push(finding(DATAPATH.tlsExpiring, `${where}: the certificate ${tls.chain[0]?.subject ?? ''} expires ${tls.chain[0]?.validTo ?? '?'}`));
    }
    return;
  }
  const evidence = `${where}: ${tls.code}: ${tls.message}`;
  const info = tls.info;
  switch (tls.code) {
    case 'TLS_NOT_OFFERED': out.push(finding(DATAPATH.encryptionOff, evidence)); return;
    case 'TLS_TIMEOUT': out.push(finding(DATAPATH.tlsTimeout, evidence)); return;
    case 'TLS_EXPIRED': case 'TLS_NOT_YET_VALID': out.push(finding(DATAPATH.tlsExpired, evidence)); break;
    case 'TLS_HOSTNAME_MISMATCH': out.push(finding(DATAPATH.tlsHostname, evidence)); return;
    case 'TLS_UNTRUSTED': {
      const issuer = info?.chain[info.chain.length - 1]?.issuer ?? '?';
      // The leaf came alone and its issuer is in no store: the server's chain is incomplete (REV-008 says which
      // intermediate), not a TLS-inspecting proxy; OpenSSL-based clients do not fetch a missing intermediate.
      out.push(info?.trustError === MISSING_INTERMEDIATE_ERROR
        ? finding(DATAPATH.tlsUntrusted, `${evidence}; ${info.chain.length === 1 ? `the server sent only its leaf, without its issuer "${issuer}"` : `issuer ${issuer}; the leaf's issuer was not sent`}`, {
          fix: `The server did not send the intermediate certificate that links its leaf to the root (not a TLS-inspecting proxy). OpenSSL-based clients (Node.js/tedious, most Linux drivers) do not fetch it and fail; clients that fetch it from the CA-issuers URL need outbound HTTP to the CA hosts. Report the incomplete chain to support; meanwhile add the intermediate to the client's store (or pass it with --ca-file). See REV-008.` })
        : finding(DATAPATH.tlsUntrusted, `${evidence}; issuer ${issuer}`));
      break;
    }
    case 'TLS_CLOSED': case 'TLS_PROTOCOL': case 'TLS_HANDSHAKE_FAILED': out.push(finding(DATAPATH.tlsHandshake, evidence)); return;
    case 'TLS_ABORTED': return;
  }
  // Expired and untrusted can come with a wrong name too: report each problem.
  if (info && !info.hostnameMatch) out.push(finding(DATAPATH.tlsHostname, `${where}: ${info.hostnameError ?? 'name mismatch'}`));
}

/** TCP, PRELOGIN and TLS to the gateway (or the public endpoint). */
export function gatewayFindings(p: DataPathResult): Finding[] {
  const out: Finding[] = [];
  pathFindings(p, out);
  return out;
}

function pathFindings(p: DataPathResult, out: Finding[]): void {
  tcpFindings(p, out);
  const pre = p.prelogin;
  if (pre && !pre.ok) {
    const evidence = `PRELOGIN to ${at(p)}: ${pre.code}: ${pre.message} (${pre.bytesReceived} bytes received, ${pre.seconds} s)`;
    if (pre.code === 'TDS_TIMEOUT') out.push(finding(DATAPATH.preloginTimeout, evidence));
    else if (pre.code === 'TDS_CLOSED' || pre.code === 'TDS_RESET') {
      if (p.strictCheck?.ok) out.push(finding(DATAPATH.strictOnly, `${evidence}; ${p.strictCheck.message}`));
      else out.push(finding(DATAPATH.preloginClosed, evidence));
    } else if (pre.code !== 'TDS_ABORTED' && pre.code !== 'TDS_SKIPPED') out.push(finding(DATAPATH.preloginGarbage, evidence));
  }
  if (pre?.ok && pre.anomalies.length > 0) {
    out.push(finding(DATAPATH.preloginAnomalies, `PRELOGIN from ${at(p)} (${pre.bytes} bytes): ${pre.anomalies.join('; ')}; options ${preloginLayout(pre)}`));
  }
  if (p.tls) tlsFindings(p.tls, `TLS (${p.tls.mode === 'strict' ? 'TDS 8 strict' : 'in TDS 7.x'}) with ${at(p)}`, out);
}

/** A dummy login (an invalid user) answered with 18456: the engine itself said no, so the whole path to it works. */
export function reachedEngine(l: LoginResult): boolean {
  return l.mode === 'dummy' && !l.ok && l.number === 18456;
}

export function loginFindings(l: LoginResult): Finding[] {
  const out: Finding[] = [];
  loginInto(l, out);
  return out;
}

function loginInto(l: LoginResult, out: Finding[]): void {
  const where = `${l.mode} login to ${l.host} (${l.address}:${l.port})`;
  const phase = !l.ok && l.failedPhase ? ` during ${l.failedPhase}` : '';
  const evidence = `${where}${phase}: ${l.code}: ${l.message}`;
  if (l.skipped?.some((s) => s === 'ENVCHANGE type 21')) {
    // With a Routing ENVCHANGE (type 20) as well, drivers follow that one: then type 21 is only a risk.
    out.push(finding(DATAPATH.enhancedRoutingIgnored, `${where}: the answer to LOGIN7 carried an Enhanced Routing ENVCHANGE (type 21); tedious, which did not announce ENHANCEDROUTINGSUPPORT, skipped it${l.routing ? ' and followed the Routing ENVCHANGE (type 20) that came with it' : ' and stayed on the gateway'}`,
      l.routing ? { severity: 'warning' } : {}));
  }
  if (reachedEngine(l)) {
    out.push(finding(DATAPATH.dummyOk, evidence));
    if (l.encrypted === false) out.push(finding(DATAPATH.loginInClear, `${where}: the login was sent without TLS`));
    return;
  }
  if (l.ok) {
    if (l.encrypted === false) out.push(finding(DATAPATH.loginInClear, `${where}: tedious completed the login without TLS`));
    if (l.query && !l.query.ok) out.push(finding(DATAPATH.queryFailed, `${where}: SELECT 1: ${l.query.message ?? `value ${String(l.query.value)}`}`));
    return;
  }
  if (l.encrypted === false && l.number !== undefined) out.push(finding(DATAPATH.loginInClear, `${where}: the login was sent without TLS`));
  switch (l.code) {
    case 'LOGIN_SKIPPED': case 'LOGIN_ABORTED': return;
    case 'LOGIN_RATE_LIMITED': out.push(finding(DATAPATH.rateLimited, evidence)); return;
    case 'LOGIN_FAILED': out.push(finding(DATAPATH.loginFailed, evidence)); return;
    case 'LOGIN_NOT_ROUTED': out.push(finding(DATAPATH.notRouted, evidence)); return;
    case 'LOGIN_CLIENT_IP_DENIED': out.push(finding(DATAPATH.clientIpDenied, evidence)); return;
    case 'LOGIN_PUBLIC_ACCESS_DENIED': out.push(finding(DATAPATH.publicAccessDenied, evidence)); return;
    case 'LOGIN_VNET_RULE_MISSING': out.push(finding(DATAPATH.vnetRuleMissing, evidence)); return;
    case 'LOGIN_TIMEOUT': out.push(finding(DATAPATH.loginTimeout, evidence)); return;
    case 'LOGIN_SOCKET': case 'LOGIN_RESET': out.push(finding(DATAPATH.loginSocket, evidence)); return;
    case 'LOGIN_ENCRYPT': out.push(finding(DATAPATH.loginEncrypt, evidence)); return;
    case 'LOGIN_CERTIFICATE': out.push(finding(DATAPATH.loginCertificate, evidence)); return;
    case 'LOGIN_SERVER_ERROR': case 'LOGIN_ERROR': out.push(finding(DATAPATH.loginServerError, evidence)); return;
  }
}

export function redirectFindings(r: RedirectResult): Finding[] {
  const out: Finding[] = [];
  redirectInto(r, out);
  return out;
}

function redirectInto(r: RedirectResult, out: Finding[]): void {
  const node = `${r.server}:${r.port}`;
  out.push(finding(DATAPATH.redirected, `the gateway redirected the login to ${node}`));
  if (!r.portInRange) out.push(finding(DATAPATH.redirectOutOfRange, `redirect port ${r.port}`));
  if (!r.resolve.ok) {
    out.push(finding(DATAPATH.redirectUnresolved, `${r.server}: ${r.resolve.message ?? 'no address'}`));
    return;
  }
  const p = r.path;
  if (!p) return;
  if (!p.tcp.ok) {
    out.push(finding(DATAPATH.redirectBlocked, `TCP to the node ${node} (${p.address}): ${p.tcp.code}, ${p.tcp.message}`));
    return;
  }
  if (p.prelogin && !p.prelogin.ok) {
    out.push(finding(DATAPATH.redirectBlocked, `PRELOGIN to the node ${node}: ${p.prelogin.code}: ${p.prelogin.message}`));
    return;
  }
  if (p.tls && !p.tls.ok) out.push(finding(DATAPATH.redirectTls, `TLS with the node ${node} (certificate checked against ${p.host}, the routed name, as drivers check it): ${p.tls.code}: ${p.tls.message}`));
}

/**
 * Sample ports the network refused (ICMP unreachable) mean a firewall on the way covers part of the range
 * (the routing port itself is REDIRECT-001's). A silent port proves nothing: the node's own host firewall may
 * drop ports where no engine listens, so "filtered" is shown in the check line but is no finding.
 */
function blockedSample(scan: PortScanResult, routingPort: number | undefined): number[] {
  if (!scan.ok) return [];
  return scan.ports.filter((p) => p.port !== routingPort && p.state === 'unreachable').map((p) => p.port);
}

export function redirectRangeFindings(scan: PortScanResult, routingPort: number | undefined): Finding[] {
  const blocked = blockedSample(scan, routingPort);
  return blocked.length > 0
    ? [finding(DATAPATH.redirectRangeBlocked, `the network refused ${scan.address} on ${blocked.join(', ')} (of the sample ${scan.ok ? scan.ports.map((p) => p.port).join(', ') : ''})`)]
    : [];
}

/** The public endpoint: its name, then TCP, PRELOGIN and TLS on 3342. */
export function publicFindings(pub: PublicEndpointResult): Finding[] {
  const p = pub.path;
  if (!p) return [finding(DATAPATH.publicUnresolved, `${pub.host}: ${pub.error ?? 'no address'}`)];
  if (p.ok) return [finding(DATAPATH.publicOk, `${at(p)}: TCP, PRELOGIN and TLS succeeded`)];
  const stage = !p.tcp.ok ? `TCP ${p.tcp.code}: ${p.tcp.message}` : p.prelogin && !p.prelogin.ok ? `PRELOGIN ${p.prelogin.code}: ${p.prelogin.message}`
    : p.tls && !p.tls.ok ? `TLS ${p.tls.code}: ${p.tls.message}` : 'failed';
  return [finding(DATAPATH.publicFailed, `${at(p)}: ${stage}`)];
}

/** One finding per id and evidence. */
export function distinctFindings(findings: readonly Finding[]): Finding[] {
  const seen = new Set<string>();
  return findings.filter((f) => {
    const key = `${f.id}\u0000${f.evidence}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** All of the data path at once (what the TDS tests diagnose). */
export function dataPathFindings(e: DataPathEvidence): Finding[] {
  return distinctFindings([
    ...(e.path ? gatewayFindings(e.path) : []),
    ...(e.login ? loginFindings(e.login) : []),
    ...(e.redirect ? redirectFindings(e.redirect) : []),
    ...(e.redirectPorts ? redirectRangeFindings(e.redirectPorts, e.redirect?.port) : []),
    ...(e.public ? publicFindings({ host: e.public.host, addresses: [e.public.address], path: e.public }) : []),
  ]);
}

function pathChecks(p: DataPathResult, label: string, out: CheckLine[]): void {
  const t = p.tcp;
  out.push({ name: `${label}TCP ${p.port}`, status: t.ok ? 'pass' : 'fail', seconds: t.connectSeconds,
    detail: t.ok ? `${p.address}:${p.port} open` : `${p.address}:${p.port} ${t.state} (${t.code})` });
  const pre = p.prelogin;
  const tls = p.tls;
  const tlsLine = (): void => {
    if (!tls) {
      out.push({ name: `${label}TLS`, status: 'skip', detail: 'not reached' });
      return;
    }
    if (tls.ok) {
      const leaf = tls.chain[0];
      out.push({ name: `${label}TLS`, status: tls.expiresInSeconds < EXPIRING_SECONDS ? 'warn' : 'pass', seconds: tls.seconds,
        detail: `${tls.protocol} ${tls.cipher}${tls.alpn ? ` ALPN ${tls.alpn}` : ''}; ${leaf?.subject ?? '?'} until ${leaf?.validTo ?? '?'}; trusted, name matches ${tls.servername}` });
    } else {
      out.push({ name: `${label}TLS`, status: 'fail', seconds: tls.seconds, detail: `${tls.code}: ${tls.message}` });
    }
  };
  if (p.strict && t.ok) tlsLine();
  if (!t.ok) {
    out.push({ name: `${label}PRELOGIN`, status: 'skip', detail: 'TCP failed' });
    out.push({ name: `${label}TLS`, status: 'skip', detail: 'TCP failed' });
    return;
  }
  if (!pre) out.push({ name: `${label}PRELOGIN`, status: 'skip', detail: 'TLS failed' });
  else if (pre.ok) {
    const fedAuth = pre.fedAuthRequired !== undefined ? `, FEDAUTHREQUIRED 0x${pre.fedAuthRequired.toString(16).padStart(2, '0')}` : '';
    const status = pre.anomalies.length > 0 ? 'warn' : 'pass';
    out.push({ name: `${label}PRELOGIN`, status: !pre.insideTls && pre.encryption !== 'ENCRYPT_ON' && pre.encryption !== 'ENCRYPT_REQ' ? 'fail' : status,
      seconds: pre.seconds, detail: `server ${pre.version}, ${encryptionText(pre)}${fedAuth}${unknownOptionsText(pre)}; ${pre.bytes}-byte answer` });
  } else {
    const strictHint = p.strictCheck ? `; TDS 8 strict: ${p.strictCheck.ok ? 'works' : 'fails too'}` : '';
    out.push({ name: `${label}PRELOGIN`, status: p.strictCheck?.ok ? 'warn' : 'fail', seconds: pre.seconds, detail: `${pre.code}: ${pre.message}${strictHint}` });
  }
  if (!p.strict) tlsLine();
}

export function gatewayLines(p: DataPathResult): CheckLine[] {
  const out: CheckLine[] = [];
  pathChecks(p, '', out);
  return out;
}

export function loginLines(l: LoginResult): CheckLine[] {
  const phases = l.phases.map((ph) => `${ph.leg > 0 ? 'node ' : ''}${ph.name} ${ph.seconds.toFixed(3)}s`).join(', ');
  if (l.code === 'LOGIN_SKIPPED' || l.code === 'LOGIN_RATE_LIMITED') return [{ name: 'Login', status: 'skip', detail: l.message }];
  if (reachedEngine(l) || l.ok) {
    const q = l.ok && l.query ? `; SELECT 1 ${l.query.ok ? 'ok' : 'failed'}` : '';
    return [{ name: `Login (${l.mode})`, status: l.encrypted === false ? 'fail' : 'pass', seconds: l.seconds,
      detail: `${l.ok ? 'logged in' : '18456 as expected: path to the engine works'}${l.encrypted === false ? ' WITHOUT TLS' : ''}${q}${phases ? ` (${phases})` : ''}` }];
  }
  return [{ name: `Login (${l.mode})`, status: 'fail', seconds: l.seconds,
    detail: `${l.code}${l.number !== undefined ? ` ${l.number}` : ''}${l.failedPhase ? ` during ${l.failedPhase}` : ''}: ${l.message}` }];
}

export function redirectLines(r: RedirectResult): CheckLine[] {
  if (!r.resolve.ok) return [{ name: 'Redirect', status: 'fail', seconds: r.seconds, detail: `${r.server}:${r.port} does not resolve: ${r.resolve.message ?? ''}` }];
  if (!r.path) return [];
  const stage = !r.path.tcp.ok ? `TCP ${r.path.tcp.state}` : r.path.prelogin && !r.path.prelogin.ok ? `PRELOGIN ${r.path.prelogin.code}`
    : r.path.tls && !r.path.tls.ok ? `TLS ${r.path.tls.code}` : `TCP, PRELOGIN and TLS ok; certificate valid for ${r.path.host}`;
  return [{ name: 'Redirect', status: r.ok ? 'pass' : 'fail', seconds: r.seconds, detail: `${r.server}:${r.port} -> ${r.path.address}: ${stage}` }];
}

export function redirectRangeLines(scan: PortScanResult, routingPort: number | undefined): CheckLine[] {
  if (!scan.ok) return [{ name: 'Redirect port sample', status: 'skip', seconds: scan.seconds, detail: `${scan.code}: ${scan.message}` }];
  const blocked = blockedSample(scan, routingPort);
  const states = scan.ports.map((p) => `${p.port} ${p.state}`).join(', ');
  return [{ name: 'Redirect port sample', status: blocked.length > 0 ? 'warn' : 'pass', seconds: scan.seconds, detail: `${scan.address}: ${states}` }];
}

export function publicLines(pub: PublicEndpointResult): CheckLine[] {
  if (!pub.path) return [{ name: 'Public endpoint', status: 'warn', detail: `${pub.host}: ${pub.error ?? 'no address'}` }];
  const out: CheckLine[] = [];
  pathChecks(pub.path, 'Public ', out);
  return out;
}

/** All of the data path at once (what the TDS tests diagnose). */
export function dataPathChecks(e: DataPathEvidence): CheckLine[] {
  return [
    ...(e.path ? gatewayLines(e.path) : []),
    ...(e.login ? loginLines(e.login) : []),
    ...(e.redirect ? redirectLines(e.redirect) : []),
    ...(e.redirectPorts ? redirectRangeLines(e.redirectPorts, e.redirect?.port) : []),
    ...(e.public ? publicLines({ host: e.public.host, addresses: [e.public.address], path: e.public }) : []),
  ];
}
