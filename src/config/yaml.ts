// Reading a YAML (or JSON) file a user wrote: one ConfigError line naming the
// file, the line and column, what is wrong and how to fix it, for every error
// and every warning of the YAML library (whose warnings would otherwise reach
// stderr raw as "(node:…) YAMLWarning"). Nesting is measured before the
// library parses anything: it composes recursively and, 10,000 brackets deep,
// crashed the process (out of memory in a regular expression).
import YAML, { type YAMLError } from 'yaml';
import { ConfigError } from './errors.js';

/** Deepest nesting of mappings and lists accepted (a real config has 5). */
export const MAX_YAML_DEPTH = 64;

/** What to do about each YAML library error or warning code, when it is not obvious from the message. */
const FIXES: Readonly<Record<string, string>> = {
  BAD_ALIAS: 'an alias (*name) ends at a space or the line end: write "*name" alone, or quote the value if "*" was meant as text',
  BAD_INDENT: 'indent each level by the same number of spaces',
  TAB_AS_INDENT: 'indent with spaces, not tabs',
  DUPLICATE_KEY: 'remove one of the two entries',
  MISSING_CHAR: 'close the quote or bracket that was opened',
  MULTILINE_IMPLICIT_KEY: 'put the key and its ":" on one line',
  BLOCK_AS_IMPLICIT_KEY: 'put the key and its ":" on one line',
  UNEXPECTED_TOKEN: 'check the characters at that position (quote values that contain ":", "#", "[" or "{")',
  TAG_RESOLVE_FAILED: 'remove the tag (!!...) or use a standard one',
  BAD_DIRECTIVE: 'remove the % directive line',
  ALIAS_PROPS: 'an alias cannot carry a tag or an anchor',
  RESOURCE_EXHAUSTION: 'write the values out instead of nesting aliases',
};

/** Where the nesting first exceeds MAX_YAML_DEPTH, as line and column (1-based); undefined when it does not. */
export function yamlTooDeep(text: string): { line: number; col: number } | undefined {
  let flow = 0;
  let quote: '"' | "'" | undefined;
  const indents: number[] = [];
  let blockScalarIndent = -1;
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n] as string;
    const indent = line.length - line.trimStart().length;
    const body = line.slice(indent);
    if (blockScalarIndent >= 0) {
      if (body === '' || indent > blockScalarIndent) continue;
      blockScalarIndent = -1;
    }
    if (flow === 0 && quote === undefined && body !== '' && !body.startsWith('#')) {
      // Block nesting: the stack of indentations, plus "- " / "? " items that open a level on the same line.
      while (indents.length > 0 && (indents[indents.length - 1] as number) >= indent) indents.pop();
      indents.push(indent);
      const compact = /^(?:[-?](?:[ \t]+|$))*/.exec(body)?.[0] ?? '';
      const items = (compact.match(/[-?]/g) ?? []).length;
      if (indents.length + items > MAX_YAML_DEPTH) return { line: n + 1, col: indent + 1 };
      if (/(?:^|[\s:-])[|>][-+0-9]*\s*(?:#.*)?$/.test(body)) blockScalarIndent = indent;
    }
    for (let i = 0; i < line.length; i++) {
      const c = line[i];
      if (quote) {
        if (quote === '"' && c === '\\') i++;
        else if (c === quote) {
          if (quote === "'" && line[i + 1] === "'") i++;
          else quote = undefined;
        }
        continue;
      }
      if (c === '#' && (i === 0 || line[i - 1] === ' ' || line[i - 1] === '\t')) break;
      if ((c === '"' || c === "'") && (i === 0 || /[\s[{,:]/.test(line[i - 1] as string))) quote = c;
      else if (c === '[' || c === '{') {
        if (++flow + indents.length > MAX_YAML_DEPTH) return { line: n + 1, col: i + 1 };
      } else if ((c === ']' || c === '}') && flow > 0) flow--;
    }
    // A single-quoted scalar may span lines; a double-quoted one too. Nothing else carries over.
  }
  return undefined;
}

function where(err: YAMLError): string {
  const pos = err.linePos?.[0];
  return pos ? `line ${pos.line}, column ${pos.col}` : `offset ${err.pos[0]}`;
}

function describe(err: YAMLError): string {
  const first = err.message.split('\n')[0] ?? err.message;
  // The library appends " at line L, column C" (and a code frame); the position is given separately.
  const message = first.replace(/ at line \d+, column \d+:?$/, '').replace(/:$/, '');
  const fix = FIXES[err.code];
  return `${where(err)}: ${message}${fix ? ` (fix: ${fix})` : ''}`;
}

export interface YamlFileOptions {
  /** What the file is, for messages: "config file", "web config file". */
  readonly what: string;
  /** Aliases expanded at most (YAML's "billion laughs" is many nested aliases). */
  readonly maxAliasCount: number;
}

/**
 * Parses the text of a YAML or JSON file into plain data. Every YAML error or warning becomes one
 * ConfigError (the first one, with its line and column); never a raw library warning or another
 * exception.
 */
export function parseYamlText(text: string, path: string, opts: YamlFileOptions): unknown {
  const deep = yamlTooDeep(text);
  if (deep) {
    throw new ConfigError(`${opts.what} ${path} line ${deep.line}, column ${deep.col}: nested more than ${MAX_YAML_DEPTH} levels deep (fix: flatten it; a configuration needs a few levels)`);
  }
  let docs: YAML.Document.Parsed[];
  try {
    const all = YAML.parseAllDocuments(text, { prettyErrors: true, uniqueKeys: true, logLevel: 'silent' });
    docs = Array.isArray(all) ? all : [];
  } catch (err) {
    throw new ConfigError(`${opts.what} ${path} is not valid YAML/JSON: ${(err as Error).message.split('\n')[0]}`);
  }
  // A second document (after "---" or "...") would be silently dropped: say so instead.
  const second = docs[1];
  if (second) {
    const line = text.slice(0, second.range[0]).split('\n').length;
    throw new ConfigError(`${opts.what} ${path} holds ${docs.length} YAML documents (a second one starts at line ${line}, after "---" or "...") (fix: a configuration is one document: merge them or remove the separator)`);
  }
  const doc = docs[0] ?? YAML.parseDocument('', { logLevel: 'silent' });
  const problem = doc.errors[0] ?? doc.warnings[0];
  if (problem) throw new ConfigError(`${opts.what} ${path} is not valid YAML/JSON: ${describe(problem)}`);
  try {
    return doc.toJS({ maxAliasCount: opts.maxAliasCount });
  } catch (err) {
    const e = err as Error;
    const fix = /alias/i.test(e.message) ? ` (fix: ${FIXES.RESOURCE_EXHAUSTION})` : '';
    throw new ConfigError(`${opts.what} ${path} is not valid YAML/JSON: ${e.message.split('\n')[0]}${fix}`);
  }
}
