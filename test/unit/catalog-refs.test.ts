// Every finding and every network requirement cites something a user can open: a public URL, an RFC, or this
// project's own docs/ (or a README section). Never the internal notes (seed documents, REFERENCES.md, DESIGN.md).
import t from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CATALOG } from '../../src/diagnosis/catalog/index.js';
import { ROUTE_REQUIREMENTS, RULE_REQUIREMENTS } from '../../src/network/requirements.js';

const ROOT = join(import.meta.dirname, '..', '..');
const INTERNAL = /[Ss]eed:|REFERENCES|DESIGN\.md/;
const URL_RE = /https:\/\/[^\s;,)]+/g;
const DOC_RE = /\bdocs\/[\w.-]+\.md\b/g;
const README_RE = /\bREADME\.md#([\w-]+)/g;
const RFC_RE = /\bRFC \d{3,5}\b/;

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
const slug = (heading: string): string => heading.trim().toLowerCase().replace(/[^\w\s-]/g, '').replace(/\s/g, '-');
const readmeAnchors = new Set(readFileSync(join(ROOT, 'README.md'), 'utf8').split('\n')
  .filter((l) => /^#{1,6} /.test(l)).map((l) => slug(l.replace(/^#+ /, ''))));

/** Problems with one citation; empty when a user can open everything it names. */
function problems(ref: string): string[] {
  const out: string[] = [];
  if (INTERNAL.test(ref)) out.push('cites internal notes (seed, REFERENCES.md or DESIGN.md)');
  const urls = ref.match(URL_RE) ?? [];
  const docs = ref.match(DOC_RE) ?? [];
  const readme = [...ref.matchAll(README_RE)].map((m) => m[1]!);
  if (urls.length + docs.length + readme.length === 0 && !RFC_RE.test(ref)) out.push('names no https:// URL, RFC, docs/ path or README section');
  for (const u of urls) {
    try {
      const url = new URL(u);
      if (/\/(en-us|en-gb)\//i.test(url.pathname) && url.hostname === 'learn.microsoft.com') out.push(`${u}: use the locale-free address`);
    } catch {
      out.push(`${u}: not a URL`);
    }
  }
  for (const d of docs) if (!existsSync(join(ROOT, d))) out.push(`${d}: no such file`);
  for (const a of readme) if (!readmeAnchors.has(a)) out.push(`README.md#${a}: no such section`);
  return out;
}

t.test('the checker itself can fail', async (t) => {
  t.same(problems('seed: Connectivity architecture / Network requirements'), ['cites internal notes (seed, REFERENCES.md or DESIGN.md)',
    'names no https:// URL, RFC, docs/ path or README section']);
  t.match(problems('REFERENCES.md: Login error numbers'), ['cites internal notes (seed, REFERENCES.md or DESIGN.md)']);
  t.match(problems('see DESIGN.md'), ['cites internal notes (seed, REFERENCES.md or DESIGN.md)']);
  t.same(problems('docs/nowhere.md'), ['docs/nowhere.md: no such file']);
  t.same(problems('README.md#no-such-heading'), ['README.md#no-such-heading: no such section']);
  t.same(problems('https://learn.microsoft.com/en-us/azure/x'), ['https://learn.microsoft.com/en-us/azure/x: use the locale-free address']);
  t.same(problems('https://learn.microsoft.com/azure/azure-sql/managed-instance/connection-types-overview; docs/check-network.md'), []);
  t.same(problems('RFC 5280 4.2.1.13'), []);
});

for (const def of CATALOG) {
  t.test(`${def.id} cites what a user can open`, async (t) => {
    t.same(problems(def.ref), [], def.ref);
    t.notMatch(def.fix, INTERNAL, 'the fix names no internal notes either');
  });
}

t.test('every requirement of src/network/requirements.ts cites a public document', async (t) => {
  for (const req of [...RULE_REQUIREMENTS, ...ROUTE_REQUIREMENTS]) {
    t.same(problems(req.ref), [], `${req.key}: ${req.ref}`);
    t.match(req.ref, /^https:\/\//, `${req.key} cites a URL`);
  }
});
