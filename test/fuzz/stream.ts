// A byte stream cut at fuzzed places: parsers that read from sockets must give the same
// answer however the bytes arrive (TCP keeps no message boundaries).

export interface CutStream {
  readonly bytes: Buffer;
  readonly cuts: readonly number[];
}

/** The chunks a reader would see, in order; cut points wrap into the stream's length. */
export function chunksOf(x: CutStream): Buffer[] {
  const points = [...new Set(x.cuts.map((c) => c % (x.bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let at = 0;
  for (const p of [...points, x.bytes.length]) {
    if (p > at) out.push(x.bytes.subarray(at, p));
    at = p;
  }
  return out;
}

export const showCutStream = (x: CutStream): string =>
  `${x.bytes.length} bytes cut at ${x.cuts.join(',')}: ${x.bytes.subarray(0, 48).toString('hex')}`;
