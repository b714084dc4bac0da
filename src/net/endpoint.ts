// "ip[:port]" parsing for resolver and endpoint flags ("[v6]:port" for IPv6).
import { isIP } from 'node:net';

export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

export function formatEndpoint(e: Endpoint): string {
  return isIP(e.host) === 6 ? `[${e.host}]:${e.port}` : `${e.host}:${e.port}`;
}

/** Parses `1.2.3.4`, `1.2.3.4:53`, `::1`, `[::1]:53`; undefined when not an IP endpoint. */
export function parseEndpoint(text: string, defaultPort: number): Endpoint | undefined {
  const trimmed = text.trim();
  let host = trimmed;
  let portText: string | undefined;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(trimmed);
  if (bracketed) {
    host = bracketed[1] ?? '';
    portText = bracketed[2];
  } else if (isIP(trimmed) === 0) {
    const idx = trimmed.lastIndexOf(':');
    if (idx > 0 && trimmed.indexOf(':') === idx) {
      host = trimmed.slice(0, idx);
      portText = trimmed.slice(idx + 1);
    }
  }
  if (isIP(host) === 0) return undefined;
  const port = portText === undefined ? defaultPort : /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
  if (!Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  return { host, port };
}
