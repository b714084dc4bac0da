// Input generators for the fuzz targets (fast-check arbitraries): real-shaped
// seeds mutated at the byte level, at the DER level (test/fuzz/der.ts), at the
// JSON level and at the text level, mixed with plain random input.
import fc from 'fast-check';
import { allNodes, cloneDer, encodeDer, encodeLength, nestedSequences, parseDer, type DerNode } from './der.js';

const pick = <T>(list: readonly T[], n: number): T => list[n % list.length] as T;

// --- bytes

interface ByteOp {
  readonly kind: 'flip' | 'set' | 'insert' | 'delete' | 'truncate' | 'dup' | 'length' | 'u16' | 'u32';
  readonly at: number;
  readonly value: number;
  readonly bytes: Uint8Array;
  readonly n: number;
}

const INTERESTING = [0x00, 0x01, 0x7f, 0x80, 0xff, 0xfe, 0x20, 0x40];
const LONG_LENGTHS = [[0x80], [0x81, 0xff], [0x82, 0xff, 0xff], [0x84, 0xff, 0xff, 0xff, 0xff], [0x84, 0x7f, 0xff, 0xff, 0xff], [0x89, 1, 2, 3, 4, 5, 6, 7, 8, 9]];

const byteOp: fc.Arbitrary<ByteOp> = fc.record({
  kind: fc.constantFrom('flip', 'set', 'insert', 'delete', 'truncate', 'dup', 'length', 'u16', 'u32'),
  at: fc.nat(),
  value: fc.nat({ max: 255 }),
  bytes: fc.uint8Array({ maxLength: 24 }),
  n: fc.nat({ max: 4096 }),
});

export function applyByteOp(buf: Buffer, op: ByteOp): Buffer {
  const at = buf.length === 0 ? 0 : op.at % buf.length;
  switch (op.kind) {
    case 'flip': {
      if (buf.length === 0) return buf;
      const out = Buffer.from(buf);
      out[at] = (out[at] as number) ^ (1 << (op.value % 8));
      return out;
    }
    case 'set': {
      if (buf.length === 0) return buf;
      const out = Buffer.from(buf);
      out[at] = op.value % 3 === 0 ? op.value : pick(INTERESTING, op.value);
      return out;
    }
    case 'insert':
      return Buffer.concat([buf.subarray(0, at), op.bytes, buf.subarray(at)]);
    case 'delete':
      return Buffer.concat([buf.subarray(0, at), buf.subarray(at + 1 + (op.n % 64))]);
    case 'truncate':
      return buf.subarray(0, at);
    case 'dup': {
      const chunk = buf.subarray(at, at + 1 + (op.n % 256));
      return Buffer.concat([buf.subarray(0, at), chunk, chunk, buf.subarray(at)]);
    }
    case 'length':
      return Buffer.concat([buf.subarray(0, at), Buffer.from(pick(LONG_LENGTHS, op.value)), buf.subarray(at + 1)]);
    case 'u16': {
      if (at + 2 > buf.length) return buf;
      const out = Buffer.from(buf);
      out.writeUInt16BE(pick([0, 1, 0x7fff, 0x8000, 0xffff, op.n], op.value), at);
      return out;
    }
    case 'u32': {
      if (at + 4 > buf.length) return buf;
      const out = Buffer.from(buf);
      out.writeUInt32BE(pick([0, 1, 0x7fffffff, 0xffffffff, op.n], op.value), at);
      return out;
    }
  }
}

/** Random bytes up to `max` long. */
export function randomBytes(max: number): fc.Arbitrary<Buffer> {
  return fc.uint8Array({ maxLength: max }).map((a) => Buffer.from(a));
}

/** A seed with 1-4 byte-level mutations. */
export function byteMutations(seeds: readonly Buffer[]): fc.Arbitrary<Buffer> {
  return fc.tuple(fc.nat(), fc.array(byteOp, { minLength: 1, maxLength: 4 }))
    .map(([s, ops]) => ops.reduce((buf, op) => applyByteOp(buf, op), pick(seeds, s)));
}

/** Seeds (unchanged), mutated seeds, and random bytes. */
export function bytesFrom(seeds: readonly Buffer[], randomMax = 1024): fc.Arbitrary<Buffer> {
  return fc.oneof(
    { weight: 1, arbitrary: fc.constantFrom(...seeds) },
    { weight: 12, arbitrary: byteMutations(seeds) },
    { weight: 3, arbitrary: randomBytes(randomMax) },
  );
}

// --- DER

interface DerOp {
  readonly kind: 'content' | 'bigint' | 'empty' | 'tag' | 'drop' | 'dup' | 'nest' | 'swap' | 'lie' | 'huge' | 'utf8' | 'time';
  readonly at: number;
  readonly other: number;
  readonly n: number;
  readonly bytes: Uint8Array;
  readonly value: number;
}

const derOp: fc.Arbitrary<DerOp> = fc.record({
  kind: fc.constantFrom('content', 'bigint', 'empty', 'tag', 'drop', 'dup', 'nest', 'swap', 'lie', 'huge', 'utf8', 'time'),
  at: fc.nat(),
  other: fc.nat(),
  // Small counts mostly, large ones (deep nesting, many copies, long contents) sometimes.
  n: fc.oneof({ weight: 4, arbitrary: fc.nat({ max: 16 }) }, { weight: 1, arbitrary: fc.nat({ max: 5000 }) }),
  bytes: fc.uint8Array({ maxLength: 32 }),
  value: fc.nat({ max: 255 }),
});

const TAGS = [0x02, 0x03, 0x04, 0x05, 0x06, 0x0a, 0x0c, 0x13, 0x16, 0x17, 0x18, 0x1e, 0x30, 0x31, 0x80, 0x81, 0x82, 0x86, 0xa0, 0xa1, 0xa2, 0xa3];
const TIMES = ['991231235959Z', '500101000000Z', '000229000000Z', '99991231235959Z', '00000000000000Z', '20240230250000Z', '2024', 'Z', '19700101000000.123456789Z', '20241301000000+0500'];

function applyDerOp(tree: DerNode[], op: DerOp): void {
  const nodes = allNodes(tree);
  const target = nodes[op.at % Math.max(1, nodes.length)];
  if (!target) return;
  const { node, siblings, index } = target;
  switch (op.kind) {
    case 'content':
      delete node.children;
      delete node.bitStringPad;
      node.content = Buffer.from(op.bytes);
      break;
    case 'bigint': {
      // An INTEGER (or whatever the node was) with a long content: "Too big integer", slow conversions.
      delete node.children;
      delete node.bitStringPad;
      const body = Buffer.alloc(1 + op.n, op.value);
      body[0] = pick([0x00, 0x7f, 0x80, 0xff, 0x01], op.value);
      node.content = body;
      if (op.value % 2 === 0) node.tag = 0x02;
      break;
    }
    case 'empty':
      if (node.children) node.children = [];
      else node.content = Buffer.alloc(0);
      break;
    case 'tag':
      node.tag = op.value % 2 === 0 ? pick(TAGS, op.value >> 1) : op.value;
      if ((node.tag & 0x1f) === 0x1f) node.tag = 0x30;
      break;
    case 'drop':
      siblings.splice(index, 1);
      break;
    case 'dup': {
      const encoded = encodeDer([node]);
      // Many copies, but at most about 1 MB more: a few of these in a row once made a 131 MB input.
      const copies = Math.min(op.n, 2000, Math.floor(1024 * 1024 / Math.max(1, encoded.length)));
      siblings.splice(index, 0, ...Array.from({ length: copies }, () => ({ tag: node.tag, raw: encoded })));
      break;
    }
    case 'nest':
      siblings[index] = { tag: 0x30, raw: nestedSequences(encodeDer([node]), op.n, op.value % 3 === 0 ? 0xa0 : 0x30) };
      break;
    case 'swap': {
      const other = nodes[op.other % nodes.length];
      if (other && other.node !== node) siblings[index] = cloneDer([other.node])[0] as DerNode;
      break;
    }
    case 'lie': {
      // The node's own length field lies (shorter, longer, absurd); its parents' stay right.
      const encoded = encodeDer([node]);
      const first = encoded[1] as number;
      const body = encoded.subarray(first < 0x80 ? 2 : 2 + (first & 0x7f));
      const real = body.length;
      const lie = pick([0, 1, Math.max(0, real - 1), real + 1, real * 2, 0xffff, 0x7fffffff, 0xffffffff], op.value);
      siblings[index] = { tag: node.tag, raw: Buffer.concat([Buffer.from([node.tag]), encodeLength(lie), body]) };
      break;
    }
    case 'huge':
      delete node.children;
      delete node.bitStringPad;
      node.content = Buffer.alloc(Math.min(op.n * 16, 64 * 1024), op.value);
      break;
    case 'utf8':
      delete node.children;
      node.tag = pick([0x0c, 0x13, 0x14, 0x16, 0x1c, 0x1e, 0x1a], op.value);
      node.content = Buffer.from(op.bytes.length > 0 ? op.bytes : [0xff, 0xfe, 0xc3]);
      break;
    case 'time':
      delete node.children;
      node.tag = op.value % 2 === 0 ? 0x17 : 0x18;
      node.content = Buffer.from(pick(TIMES, op.other), 'latin1');
      break;
  }
}

/** Seeds parsed as DER, 1-3 node mutations (lengths fixed up), then maybe a byte mutation. */
export function derMutations(seeds: readonly Buffer[]): fc.Arbitrary<Buffer> {
  const trees = seeds.map((s) => {
    const tree = parseDer(s);
    if (!tree) throw new Error('a DER seed does not parse as DER');
    return tree;
  });
  return fc.tuple(fc.nat(), fc.array(derOp, { minLength: 1, maxLength: 3 }), fc.array(byteOp, { maxLength: 1 }))
    .map(([s, ops, bytes]) => {
      const tree = cloneDer(pick(trees, s));
      for (const op of ops) applyDerOp(tree, op);
      return bytes.reduce((buf, op) => applyByteOp(buf, op), encodeDer(tree));
    });
}

/** DER seeds, their structure-aware and byte-level mutations, and random bytes. */
export function derFrom(seeds: readonly Buffer[], randomMax = 2048): fc.Arbitrary<Buffer> {
  return fc.oneof(
    { weight: 1, arbitrary: fc.constantFrom(...seeds) },
    { weight: 10, arbitrary: derMutations(seeds) },
    { weight: 4, arbitrary: byteMutations(seeds) },
    { weight: 2, arbitrary: randomBytes(randomMax) },
  );
}

// --- JSON documents

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

interface JsonOp {
  readonly kind: 'replace' | 'delete' | 'deepArray' | 'deepObject' | 'type' | 'dup' | 'longString' | 'proto';
  readonly at: number;
  readonly n: number;
  readonly value: Json;
  readonly pickType: number;
}

const jsonOp: fc.Arbitrary<JsonOp> = fc.record({
  kind: fc.constantFrom('replace', 'delete', 'deepArray', 'deepObject', 'type', 'dup', 'longString', 'proto'),
  at: fc.nat(),
  n: fc.oneof({ weight: 3, arbitrary: fc.nat({ max: 20 }) }, { weight: 1, arbitrary: fc.nat({ max: 20_000 }) }),
  value: fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>,
  pickType: fc.nat({ max: 9 }),
});

/** Every (container, key) pair of a document, depth first, iteratively. */
function slots(doc: Json): { parent: Json[] | { [key: string]: Json }; key: string | number }[] {
  const out: { parent: Json[] | { [key: string]: Json }; key: string | number }[] = [];
  const stack: Json[] = [doc];
  while (stack.length > 0) {
    const v = stack.pop() as Json;
    if (Array.isArray(v)) v.forEach((x, i) => { out.push({ parent: v, key: i }); stack.push(x); });
    else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) { out.push({ parent: v, key: k }); stack.push(x); }
  }
  return out;
}

function deep(n: number, leaf: Json, object: boolean): Json {
  let v = leaf;
  for (let i = 0; i < n; i++) v = object ? { a: v } : [v];
  return v;
}

function applyJsonOp(doc: Json, op: JsonOp): Json {
  const all = slots(doc);
  const slot = all[op.at % Math.max(1, all.length)];
  if (!slot) return doc;
  const { parent, key } = slot;
  const set = (v: Json): void => {
    if (Array.isArray(parent)) parent[key as number] = v;
    else parent[key as string] = v;
  };
  const current = Array.isArray(parent) ? parent[key as number] : parent[key as string];
  switch (op.kind) {
    case 'replace': set(op.value); break;
    case 'delete':
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete parent[key as string];
      break;
    // Deep values go in as markers, expanded in the text (see jsonTextMutations): no deep recursion here.
    case 'deepArray': set(op.n > 50 ? `\u0000DEEP_A_${op.n}\u0000` : deep(op.n, 1, false)); break;
    case 'deepObject': set(op.n > 50 ? `\u0000DEEP_O_${op.n}\u0000` : deep(op.n, 'x', true)); break;
    case 'type': set(pick<Json>([null, true, 0, -1, 1e308, 65501, 'text', '', [], {}], op.pickType)); break;
    case 'dup': {
      // Copies of an item, at most about 2 MB more (copies of copies reached half a gigabyte).
      const size = Math.max(1, JSON.stringify(current ?? null).length);
      if (Array.isArray(parent)) parent.push(...Array.from({ length: Math.min(op.n, 2000, Math.floor(2_000_000 / size)) }, () => structuredClone(current ?? null)));
      break;
    }
    case 'longString': set('9'.repeat(Math.min(op.n * 50, 1_000_000))); break;
    case 'proto':
      if (!Array.isArray(parent)) parent[pick(['__proto__', 'constructor', 'properties', 'toString'], op.pickType)] = op.value;
      break;
  }
  return doc;
}

/** JSON seeds with 1-3 structural mutations. */
export function jsonMutations(seeds: readonly Json[]): fc.Arbitrary<Json> {
  return fc.tuple(fc.nat(), fc.array(jsonOp, { minLength: 1, maxLength: 3 }))
    .map(([s, ops]) => ops.reduce((doc, op) => applyJsonOp(doc, op), structuredClone(pick(seeds, s))));
}

export type { Json };

/** Mutated JSON documents as text, deep values (up to 20,000 levels) written out directly. */
export function jsonTextMutations(seeds: readonly Json[]): fc.Arbitrary<string> {
  return jsonMutations(seeds).map((doc) => JSON.stringify(doc).replace(/"\\u0000DEEP_([AO])_(\d+)\\u0000"/g, (_, kind: string, n: string) => {
    const depth = Number(n);
    return kind === 'A' ? `${'['.repeat(depth)}1${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}"x"${'}'.repeat(depth)}`;
  }));
}

// --- text

interface TextOp {
  readonly kind: 'insert' | 'deleteLine' | 'dupLine' | 'replaceChar' | 'token' | 'prefixLine';
  readonly at: number;
  readonly token: number;
  readonly text: string;
  readonly n: number;
}

/** Text seeds with 1-4 mutations using `tokens` (syntax of the format) and random text. */
export function textMutations(seeds: readonly string[], tokens: readonly string[]): fc.Arbitrary<string> {
  const op: fc.Arbitrary<TextOp> = fc.record({
    kind: fc.constantFrom('insert', 'deleteLine', 'dupLine', 'replaceChar', 'token', 'prefixLine'),
    at: fc.nat(), token: fc.nat(), text: fc.string({ maxLength: 12, unit: 'binary' }), n: fc.nat({ max: 40 }),
  });
  return fc.tuple(fc.nat(), fc.array(op, { minLength: 1, maxLength: 4 })).map(([s, ops]) => ops.reduce((text, o) => {
    const at = text.length === 0 ? 0 : o.at % text.length;
    const lines = text.split('\n');
    const line = o.at % Math.max(1, lines.length);
    switch (o.kind) {
      case 'insert': return text.slice(0, at) + o.text + text.slice(at);
      case 'token': return text.slice(0, at) + pick(tokens, o.token) + text.slice(at);
      case 'replaceChar': return text.slice(0, at) + pick(tokens, o.token).slice(0, 1) + text.slice(at + 1);
      case 'deleteLine': lines.splice(line, 1); return lines.join('\n');
      case 'dupLine': lines.splice(line, 0, ...Array.from({ length: 1 + (o.n % 8) }, () => lines[line] ?? '')); return lines.join('\n');
      case 'prefixLine': lines[line] = pick(tokens, o.token) + (lines[line] ?? ''); return lines.join('\n');
    }
  }, pick(seeds, s)));
}
