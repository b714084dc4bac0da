// Port sets as sorted, disjoint, inclusive intervals: what NSG rules and the
// requirements both speak ("*", "80", "1000-2000", lists of those).

export type PortInterval = readonly [number, number];
/** Sorted, non-overlapping, non-adjacent inclusive intervals within 0..65535. */
export type PortSet = readonly PortInterval[];

export const ALL_PORTS: PortSet = [[0, 65535]];
export const NO_PORTS: PortSet = [];

export function normalizePorts(intervals: readonly PortInterval[]): PortSet {
  const sorted = [...intervals].filter(([a, b]) => a <= b).sort((x, y) => x[0] - y[0]);
  const out: [number, number][] = [];
  for (const [a, b] of sorted) {
    const last = out[out.length - 1];
    if (last && a <= last[1] + 1) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  return out;
}

export function portsOf(...ports: number[]): PortSet {
  return normalizePorts(ports.map((p) => [p, p] as const));
}

/**
 * Parses one ARM port-range entry ("*", "Any", "443", "1000-2000"); also accepts a
 * comma-separated list of those. Undefined when the text is not a port range.
 */
export function parsePortRange(text: string): PortSet | undefined {
  const items = text.split(',').map((s) => s.trim()).filter(Boolean);
  if (items.length === 0) return undefined;
  const intervals: PortInterval[] = [];
  for (const item of items) {
    if (item === '*' || item.toLowerCase() === 'any') return ALL_PORTS;
    const m = /^(\d{1,5})(?:\s*-\s*(\d{1,5}))?$/.exec(item);
    if (!m) return undefined;
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (a > 65535 || b > 65535 || a > b) return undefined;
    intervals.push([a, b]);
  }
  return normalizePorts(intervals);
}

export function intersectPorts(a: PortSet, b: PortSet): PortSet {
  const out: PortInterval[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const [a0, a1] = a[i] as PortInterval;
    const [b0, b1] = b[j] as PortInterval;
    const lo = Math.max(a0, b0);
    const hi = Math.min(a1, b1);
    if (lo <= hi) out.push([lo, hi]);
    if (a1 < b1) i++;
    else j++;
  }
  return out;
}

export function subtractPorts(a: PortSet, b: PortSet): PortSet {
  let out: PortInterval[] = [...a];
  for (const [b0, b1] of b) {
    const next: PortInterval[] = [];
    for (const [a0, a1] of out) {
      if (b1 < a0 || b0 > a1) next.push([a0, a1]);
      else {
        if (a0 < b0) next.push([a0, b0 - 1]);
        if (b1 < a1) next.push([b1 + 1, a1]);
      }
    }
    out = next;
  }
  return out;
}

export function unionPorts(a: PortSet, b: PortSet): PortSet {
  return normalizePorts([...a, ...b]);
}

export function isEmptyPorts(a: PortSet): boolean {
  return a.length === 0;
}

export function portsEqual(a: PortSet, b: PortSet): boolean {
  return a.length === b.length && a.every(([x, y], i) => x === b[i]?.[0] && y === b[i]?.[1]);
}

/** "9000, 9003, 1438-1440" or "Any". */
export function formatPorts(a: PortSet): string {
  if (a.length === 0) return 'none';
  if (portsEqual(a, ALL_PORTS)) return 'Any';
  return a.map(([x, y]) => (x === y ? String(x) : `${x}-${y}`)).join(', ');
}

/** The form az CLI takes: space-separated entries ("9000 9003 1438-1440"), "*" for all. */
export function azPorts(a: PortSet): string[] {
  if (portsEqual(a, ALL_PORTS)) return ['*'];
  return a.map(([x, y]) => (x === y ? String(x) : `${x}-${y}`));
}
