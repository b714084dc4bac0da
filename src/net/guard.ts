// The address guard: every query or connection miprobe makes asks it first, so
// a diagnosis (and every test) can be fenced into known ranges before any
// packet leaves.
import { isIP } from 'node:net';
import { cidrContains, parseCidr, type Cidr } from './address.js';

export class GuardError extends Error {
  readonly code = 'GUARD_DENIED';
  constructor(readonly address: string, readonly allowed: readonly string[]) {
    super(`address ${address} is outside the allowed ranges (${allowed.join(', ')}); `
      + 'widen --allow-cidr / MIPROBE_ALLOW_CIDRS if this traffic is intended');
  }
}

export class AddressGuard {
  private readonly ranges: readonly Cidr[] | undefined;

  /** `undefined` allows every address; a list allows only addresses inside it. */
  constructor(ranges?: readonly Cidr[]) {
    this.ranges = ranges;
  }

  static allowAll(): AddressGuard {
    return new AddressGuard();
  }

  /** Parses a comma- or space-separated list; throws with the offending entry. */
  static fromList(list: readonly string[] | string): AddressGuard {
    const items = (typeof list === 'string' ? list.split(/[\s,]+/) : list).map((s) => s.trim()).filter(Boolean);
    const ranges = items.map((item) => {
      const cidr = parseCidr(item);
      if (!cidr) throw new Error(`"${item}" is not a CIDR block (expected e.g. 127.0.0.0/8 or ::1/128)`);
      return cidr;
    });
    return new AddressGuard(ranges);
  }

  get restricted(): boolean {
    return this.ranges !== undefined;
  }

  describe(): string[] {
    return this.ranges ? this.ranges.map((r) => r.text) : ['any'];
  }

  allows(address: string): boolean {
    if (!this.ranges) return true;
    if (isIP(address) === 0) return false;
    return this.ranges.some((range) => cidrContains(range, address));
  }

  /** Throws GuardError unless the address may be contacted. */
  check(address: string): void {
    if (!this.allows(address)) throw new GuardError(address, this.describe());
  }
}
