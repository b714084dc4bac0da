// The configuration schema (zod). One schema serves the file, the
// environment and the flags: each source yields a partial object, they are
// merged (flags > env > file > defaults) and validated once here.
import { z } from 'zod';
import { parseCidr } from '../net/address.js';
import { parseEndpoint } from '../net/endpoint.js';
import { DEFAULT_REQUIRED_DNS_NAMES } from './defaults.js';

const endpoint = (defaultPort: number) => z.string().refine((s) => parseEndpoint(s, defaultPort) !== undefined, {
  message: `expected an IP address with an optional port, e.g. 10.0.0.4 or 10.0.0.4:${defaultPort} or [fd00::4]:${defaultPort}`,
});
const cidr = z.string().refine((s) => parseCidr(s) !== undefined, { message: 'expected a CIDR block, e.g. 10.0.0.0/24' });
const hostName = z.string().regex(/^[A-Za-z0-9.-]{1,253}$/, 'expected a host name, e.g. microsoft.com');

export const dnsSchema = z.object({
  /** Resolvers to query; empty means the system's (/etc/resolv.conf). */
  servers: z.array(endpoint(53)).default([]),
  /** Azure's recursive resolver (168.63.129.16 in Azure), queried too and compared. */
  azureDns: endpoint(53).optional(),
  retries: z.number().int().min(0).max(5).default(1),
  /** Names each custom resolver must resolve; an empty list skips the check. */
  requiredNames: z.array(hostName).default([...DEFAULT_REQUIRED_DNS_NAMES]),
}).strict();

export const loginModes = ['none', 'dummy', 'sql', 'token'] as const;

/** Options that say how one instance is probed; the agent's instances override them. */
export const probeSchema = z.object({
  /** The managed instance subnet, to check that the name lands inside it. */
  subnet: cidr.optional(),
  login: z.enum(loginModes).default('none'),
  user: z.string().min(1).max(128).optional(),
  /** Files holding secrets; the secrets themselves come only from files or env. */
  passwordFile: z.string().min(1).optional(),
  tokenFile: z.string().min(1).optional(),
  /** Extra trusted roots (PEM) for the TLS checks. */
  caFile: z.string().min(1).optional(),
  /** TDS 8.0 strict encryption (TLS first). */
  strict: z.boolean().default(false),
  /** Also probe the public endpoint on 3342. */
  public: z.boolean().default(false),
  /** Certificate revocation checks. */
  revocation: z.boolean().default(true),
  /** Replaces the default list of platform revocation endpoints. */
  revocationUrls: z.array(z.string().url()).optional(),
  /** Management endpoint firewall check. */
  managementPorts: z.boolean().default(true),
  /** Extra ports or ranges to check on the management endpoint, e.g. "1-1024,8080". */
  scanPorts: z.string().regex(/^\d+(-\d+)?(,\d+(-\d+)?)*$/, 'expected a list of ports and ranges, e.g. 1-1024,8080').optional(),
}).strict();

export const configSchema = z.object({
  /** Deadline of each network check, in milliseconds. */
  timeoutMs: z.number().int().min(100).max(120_000).default(5000),
  /** Addresses miprobe may contact; empty means any. */
  allowCidrs: z.array(cidr).default([]),
  dns: dnsSchema.default(() => dnsSchema.parse({})),
  probe: probeSchema.default(() => probeSchema.parse({})),
}).strict();

export type Config = z.infer<typeof configSchema>;
export type ProbeConfig = z.infer<typeof probeSchema>;
/** What a source (file, env, flags) contributes before validation. */
export type ConfigLayer = Record<string, unknown>;
