// The container health check: GET /healthz on the agent's own port, exit 0
// when it answers 200. Reads MIPROBE_AGENT_LISTEN (default :9433) and
// MIPROBE_HEALTHCHECK_URL (overrides, e.g. https://127.0.0.1:9433/healthz).
// With TLS on, the local certificate is not verified: this only asks "alive?".
// With client_auth_type RequireAndVerifyClientCert the agent ends the handshake
// for want of a certificate the health check does not have; a server that got
// that far (it answered the handshake and asked for one) counts as alive.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

function target(): string {
  if (process.env.MIPROBE_HEALTHCHECK_URL) return process.env.MIPROBE_HEALTHCHECK_URL;
  const listen = process.env.MIPROBE_AGENT_LISTEN ?? ':9433';
  const port = /:(\d+)$/.exec(listen)?.[1] ?? '9433';
  return `http://127.0.0.1:${port}/healthz`;
}

/** OpenSSL's codes for "the server wants a client certificate" (TLS 1.3 alert 116; TLS 1.2 handshake failure). */
const CERTIFICATE_DEMANDED = new Set(['ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE']);

const url = new URL(target());
const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
const req = request(url, { timeout: 3000, rejectUnauthorized: false }, (res) => {
  res.resume();
  process.exitCode = res.statusCode === 200 ? 0 : 1;
});
req.on('timeout', () => req.destroy(new Error('timeout')));
req.on('error', (err: NodeJS.ErrnoException) => {
  process.exitCode = url.protocol === 'https:' && err.code !== undefined && CERTIFICATE_DEMANDED.has(err.code) ? 0 : 1;
});
req.end();
