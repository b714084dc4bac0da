// Every finding and every network requirement cites something a user can open: each part of a reference (parts are
// separated by "; ") is an https URL (RFCs included: www.rfc-editor.org) or a path of this project's own docs/ (or a
// README section), optionally followed by a short label in parentheses. Never the internal notes (seed documents,
// REFERENCES.md, DESIGN.md), never bare text such as "RFC 5280 4.2.1.13".
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
/** One part of a reference: something to open, then an optional label. */
const PART_RE = /^(https:\/\/[^\s;]+|docs\/[\w.-]+\.md(#[\w-]+)?|README\.md#[\w-]+)( \([^;]+\))?$/;

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
  if (urls.length + docs.length + readme.length === 0) out.push('names no https:// URL, docs/ path or README section');
  for (const part of ref.split('; ')) if (!PART_RE.test(part)) out.push(`"${part}": not a URL or docs path (with an optional label in parentheses)`);
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
    'names no https:// URL, docs/ path or README section',
    '"seed: Connectivity architecture / Network requirements": not a URL or docs path (with an optional label in parentheses)']);
  t.match(problems('REFERENCES.md: Login error numbers'), ['cites internal notes (seed, REFERENCES.md or DESIGN.md)']);
  t.match(problems('see DESIGN.md'), ['cites internal notes (seed, REFERENCES.md or DESIGN.md)']);
  t.same(problems('docs/nowhere.md'), ['docs/nowhere.md: no such file']);
  t.same(problems('README.md#no-such-heading'), ['README.md#no-such-heading: no such section']);
  t.same(problems('https://learn.microsoft.com/en-us/azure/x'), ['https://learn.microsoft.com/en-us/azure/x: use the locale-free address']);
  t.same(problems('https://learn.microsoft.com/azure/azure-sql/managed-instance/connection-types-overview; docs/check-network.md'), []);
  t.same(problems('RFC 5280 4.2.1.13 (CRL distribution points)'), ['names no https:// URL, docs/ path or README section',
    '"RFC 5280 4.2.1.13 (CRL distribution points)": not a URL or docs path (with an optional label in parentheses)'], 'a bare RFC number is not a link');
  t.same(problems('https://www.rfc-editor.org/rfc/rfc5280#section-4.2.1.13 (RFC 5280 4.2.1.13: CRL distribution points)'), []);
  t.same(problems('current configuration: https://learn.microsoft.com/azure/x'),
    ['"current configuration: https://learn.microsoft.com/azure/x": not a URL or docs path (with an optional label in parentheses)'], 'the label follows the link');
  t.same(problems('https://www.rfc-editor.org/rfc/rfc9110#section-15.5.4 (RFC 9110 15.5.4: 403 Forbidden); docs/check-network.md'), []);
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

t.test('docs/findings.md links every reference: the label is the text, the address the target', async (t) => {
  const { refLinks } = await import('../../src/report/catalog-doc.js');
  t.equal(refLinks('https://www.rfc-editor.org/rfc/rfc9110#section-15.5.4 (RFC 9110 15.5.4: 403 Forbidden); docs/check-network.md; README.md#miprobe-diagnose-fqdn (--allow-cidr)'),
    '[RFC 9110 15.5.4: 403 Forbidden](https://www.rfc-editor.org/rfc/rfc9110#section-15.5.4); [docs/check-network.md](check-network.md); '
    + '[--allow-cidr](../README.md#miprobe-diagnose-fqdn)');
  const doc = readFileSync(join(ROOT, 'docs', 'findings.md'), 'utf8');
  for (const line of doc.split('\n').filter((l) => /^\| [A-Z]+-\d{3} \|/.test(l))) {
    const requirement = line.split(' | ').at(-1)!.replace(/ \|$/, '');
    t.match(requirement, /^\[[^\]]+\]\((https:\/\/|[\w.-]+\.md|\.\.\/README\.md#)[^)\s]*\)(; \[[^\]]+\]\([^)\s]+\))*$/, line.slice(0, 12));
  }
});
