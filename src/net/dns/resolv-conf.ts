// /etc/resolv.conf: the servers the system resolver would ask.
//
// API (stable):
//   readResolvConf(path = '/etc/resolv.conf'): Promise<Endpoint[]>
//     Rejects with ResolvConfError (message ready for the CLI) when the file cannot be read
//     or names no usable server.
//   parseResolvConf(text): ResolvConf   (pure; also reports search domains, options and
//     lines it ignored)
// Like glibc, only the first 3 nameserver lines are used (MAXNS); later ones are reported in
// `ignored`. IPv6 servers may carry a zone (fe80::1%eth0). Port is always 53.
import { open } from 'node:fs/promises';
import { isIP } from 'node:net';
import type { Endpoint } from '../endpoint.js';

export const RESOLV_CONF_MAX_SERVERS = 3;
const MAX_FILE_BYTES = 64 * 1024;

export interface ResolvConf {
  readonly servers: Endpoint[];
  readonly search: string[];
  /** `options timeout:n` in ms, when present. */
  readonly timeoutMs?: number;
  /** `options attempts:n`, when present. */
  readonly attempts?: number;
  /** Lines that were not understood or servers beyond the first three, with the reason. */
  readonly ignored: { line: number; text: string; reason: string }[];
}

export class ResolvConfError extends Error {
  readonly code = 'RESOLV_CONF';
  constructor(message: string, readonly path: string) {
    super(message);
  }
}

export function parseResolvConf(text: string): ResolvConf {
  const servers: Endpoint[] = [];
  let search: string[] = [];
  let timeoutMs: number | undefined;
  let attempts: number | undefined;
  const ignored: ResolvConf['ignored'] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, idx) => {
    const line = raw.replace(/[#;].*$/, '').trim();
    if (line === '') return;
    const [keyword = '', ...args] = line.split(/\s+/);
    const n = idx + 1;
    switch (keyword) {
      case 'nameserver': {
        const addr = args[0] ?? '';
        const bare = addr.split('%')[0] ?? '';
        if (isIP(bare) === 0) {
          ignored.push({ line: n, text: raw, reason: `"${addr}" is not an IP address` });
        } else if (servers.length >= RESOLV_CONF_MAX_SERVERS) {
          ignored.push({ line: n, text: raw, reason: `only the first ${RESOLV_CONF_MAX_SERVERS} nameservers are used` });
        } else {
          servers.push({ host: addr, port: 53 });
        }
        break;
      }
      case 'search':
      case 'domain':
        search = args;
        break;
      case 'options':
        for (const opt of args) {
          const m = /^(timeout|attempts):(\d+)$/.exec(opt);
          if (m?.[1] === 'timeout') timeoutMs = Math.min(30, Number(m[2])) * 1000;
          else if (m?.[1] === 'attempts') attempts = Math.min(5, Number(m[2]));
        }
        break;
      case 'sortlist':
        break;
      default:
        ignored.push({ line: n, text: raw, reason: `unknown keyword "${keyword}"` });
    }
  });
  return { servers, search, ignored, ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    ...(attempts !== undefined ? { attempts } : {}) };
}

export async function readResolvConf(path = '/etc/resolv.conf'): Promise<Endpoint[]> {
  let text: string;
  try {
    const handle = await open(path, 'r');
    try {
      const buf = Buffer.alloc(MAX_FILE_BYTES);
      const { bytesRead } = await handle.read(buf, 0, MAX_FILE_BYTES, 0);
      text = buf.subarray(0, bytesRead).toString('utf8');
    } finally {
      await handle.close();
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'it does not exist' : code === 'EACCES' ? 'permission denied'
      : code === 'EISDIR' ? 'it is a directory' : (err as Error).message;
    throw new ResolvConfError(`cannot read ${path}: ${why}; name the DNS server(s) explicitly (e.g. --dns-server 10.0.0.4)`, path);
  }
  const parsed = parseResolvConf(text);
  if (parsed.servers.length === 0) {
    throw new ResolvConfError(`${path} has no usable nameserver line; name the DNS server(s) explicitly (e.g. --dns-server 10.0.0.4)`, path);
  }
  return parsed.servers;
}
