// A minimal DER tree for structure-aware mutation: parse what a seed holds
// (definite lengths only), change one node, encode again with the lengths
// fixed up, so a mutation reaches the code behind the outer structure (a CRL
// entry's reason, an OCSP single response) instead of dying at the first
// length check. OCTET STRING and BIT STRING contents that are themselves DER
// (extension values, the OCSP basic response) are opened too.

export interface DerNode {
  /** Identifier octet(s) as they stood (one byte for every tag the seeds use). */
  tag: number;
  /** Children when constructed, or when a string's content was DER itself. */
  children?: DerNode[];
  /** Content octets of a primitive node. */
  content?: Buffer;
  /** A BIT STRING whose content (after the unused-bits byte) was DER: the byte to put back. */
  bitStringPad?: number;
  /** Bytes written as they are in place of the node (deep nesting, lying lengths). */
  raw?: Buffer;
}

const MAX_DEPTH = 48;

function readLength(buf: Buffer, at: number): { length: number; next: number } | undefined {
  const first = buf[at];
  if (first === undefined) return undefined;
  if (first < 0x80) return { length: first, next: at + 1 };
  const n = first & 0x7f;
  if (n === 0 || n > 4 || at + 1 + n > buf.length) return undefined;
  let length = 0;
  for (let i = 0; i < n; i++) length = length * 256 + (buf[at + 1 + i] as number);
  return { length, next: at + 1 + n };
}

/** Parses a whole buffer as a sequence of DER nodes; undefined when it is not exactly that. */
export function parseDer(buf: Buffer, depth = 0): DerNode[] | undefined {
  if (depth > MAX_DEPTH) return undefined;
  const nodes: DerNode[] = [];
  let at = 0;
  while (at < buf.length) {
    const tag = buf[at] as number;
    if ((tag & 0x1f) === 0x1f) return undefined; // high tag numbers: not in the seeds
    const len = readLength(buf, at + 1);
    if (!len || len.next + len.length > buf.length) return undefined;
    const content = buf.subarray(len.next, len.next + len.length);
    at = len.next + len.length;
    if (tag & 0x20) {
      const children = parseDer(content, depth + 1);
      if (!children) return undefined;
      nodes.push({ tag, children });
    } else if (tag === 0x04 && content.length > 1 && content[0] === 0x30) {
      const inner = parseDer(content, depth + 1);
      nodes.push(inner ? { tag, children: inner } : { tag, content: Buffer.from(content) });
    } else if (tag === 0x03 && content.length > 2 && content[0] === 0 && content[1] === 0x30) {
      const inner = parseDer(content.subarray(1), depth + 1);
      nodes.push(inner ? { tag, children: inner, bitStringPad: 0 } : { tag, content: Buffer.from(content) });
    } else {
      nodes.push({ tag, content: Buffer.from(content) });
    }
  }
  return nodes;
}

export function encodeLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export function encodeDer(nodes: readonly DerNode[]): Buffer {
  const parts: Buffer[] = [];
  // Iterative over siblings, recursive over depth (bounded by what mutation builds, see nest()).
  for (const node of nodes) {
    if (node.raw) {
      parts.push(node.raw);
      continue;
    }
    let content: Buffer;
    if (node.children) {
      const inner = encodeDer(node.children);
      content = node.bitStringPad !== undefined ? Buffer.concat([Buffer.from([node.bitStringPad]), inner]) : inner;
    } else {
      content = node.content ?? Buffer.alloc(0);
    }
    parts.push(Buffer.from([node.tag]), encodeLength(content.length), content);
  }
  return Buffer.concat(parts);
}

/** Every node with its parent list and index, depth first. */
export function allNodes(nodes: DerNode[]): { node: DerNode; siblings: DerNode[]; index: number }[] {
  const out: { node: DerNode; siblings: DerNode[]; index: number }[] = [];
  const walk = (list: DerNode[]): void => {
    list.forEach((node, index) => {
      out.push({ node, siblings: list, index });
      if (node.children) walk(node.children);
    });
  };
  walk(nodes);
  return out;
}

export function cloneDer(nodes: readonly DerNode[]): DerNode[] {
  return nodes.map((n) => ({
    tag: n.tag,
    ...(n.children ? { children: cloneDer(n.children) } : {}),
    ...(n.content ? { content: Buffer.from(n.content) } : {}),
    ...(n.bitStringPad !== undefined ? { bitStringPad: n.bitStringPad } : {}),
    ...(n.raw ? { raw: n.raw } : {}),
  }));
}

/**
 * `depth` SEQUENCEs around `inner`, encoded directly (no tree, no recursion): deep nesting
 * of any size without a deep stack here.
 */
export function nestedSequences(inner: Buffer, depth: number, tag = 0x30): Buffer {
  let out = inner;
  for (let i = 0; i < depth; i++) out = Buffer.concat([Buffer.from([tag]), encodeLength(out.length), out]);
  return out;
}
