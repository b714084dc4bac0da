// IP address and CIDR arithmetic on BigInt, shared by the address guard, the
// private-address check and the network-requirements evaluator.
import { isIP } from 'node:net';

export type IpFamily = 4 | 6;

export interface Cidr {
  readonly family: IpFamily;
  readonly network: bigint;
  readonly prefix: number;
  /** The text the CIDR was parsed from, normalised as `address/prefix`. */
  readonly text: string;
}

/** Parses an IPv4 or IPv6 address (IPv4-mapped IPv6 stays IPv6) to a number. */
export function ipToBigInt(ip: string): { family: IpFamily; value: bigint } | undefined {
  const family = isIP(ip);
  if (family === 4) {
    const parts = ip.split('.').map(Number);
    return { family: 4, value: parts.reduce((acc, p) => (acc << 8n) | BigInt(p), 0n) };
  }
  if (family === 6) {
    let text = ip.split('%')[0] ?? ip;
    // An embedded dotted quad (::ffff:1.2.3.4) becomes two hextets.
    const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
    if (dotted?.[1]) {
      const v4 = ipToBigInt(dotted[1]);
      if (!v4) return undefined;
      const hi = Number(v4.value >> 16n).toString(16);
      const lo = Number(v4.value & 0xffffn).toString(16);
      text = text.slice(0, dotted.index) + `${hi}:${lo}`;
    }
    const [head = '', tail] = text.split('::');
    const headParts = head ? head.split(':') : [];
    const tailParts = tail !== undefined && tail !== '' ? tail.split(':') : [];
    const missing = 8 - headParts.length - tailParts.length;
    const all = tail === undefined ? headParts : [...headParts, ...Array<string>(missing).fill('0'), ...tailParts];
    return { family: 6, value: all.reduce((acc, p) => (acc << 16n) | BigInt(parseInt(p, 16)), 0n) };
  }
  return undefined;
}

const bits = (family: IpFamily): number => (family === 4 ? 32 : 128);

function mask(family: IpFamily, prefix: number): bigint {
  const width = BigInt(bits(family));
  return prefix === 0 ? 0n : ((1n << width) - 1n) ^ ((1n << (width - BigInt(prefix))) - 1n);
}

/** Parses `a.b.c.d/n` or `x::y/n` (a bare address is a host route); undefined when invalid. */
export function parseCidr(text: string): Cidr | undefined {
  const [addr = '', prefixText, extra] = text.trim().split('/');
  if (extra !== undefined) return undefined;
  const ip = ipToBigInt(addr);
  if (!ip) return undefined;
  const max = bits(ip.family);
  const prefix = prefixText === undefined ? max : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max) return undefined;
  return { family: ip.family, network: ip.value & mask(ip.family, prefix), prefix, text: `${addr}/${prefix}` };
}

export function cidrContains(cidr: Cidr, ip: string): boolean {
  const parsed = ipToBigInt(ip);
  if (!parsed || parsed.family !== cidr.family) return false;
  return (parsed.value & mask(cidr.family, cidr.prefix)) === cidr.network;
}

/** True when every address of `inner` lies in `outer`. */
export function cidrCovers(outer: Cidr, inner: Cidr): boolean {
  return outer.family === inner.family && outer.prefix <= inner.prefix
    && (inner.network & mask(outer.family, outer.prefix)) === outer.network;
}

/** Number of addresses in the block (2^(bits - prefix)). */
export function cidrSize(cidr: Cidr): bigint {
  return 1n << BigInt(bits(cidr.family) - cidr.prefix);
}

const PRIVATE_RANGES: readonly Cidr[] = [
  '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', // RFC 1918
  '100.64.0.0/10', // RFC 6598 shared address space
  'fc00::/7', // RFC 4193 unique local
].map((c) => parseCidr(c) as Cidr);

/** Private in the sense an MI's ILB address is: RFC 1918, RFC 6598 or IPv6 ULA. */
export function isPrivateAddress(ip: string): boolean {
  return PRIVATE_RANGES.some((range) => cidrContains(range, ip));
}

const LOOPBACK: readonly Cidr[] = ['127.0.0.0/8', '::1/128'].map((c) => parseCidr(c) as Cidr);

export function isLoopbackAddress(ip: string): boolean {
  return LOOPBACK.some((range) => cidrContains(range, ip));
}
