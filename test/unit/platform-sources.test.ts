// The platform's requirements live in src/requirements/platform.ts, each value with the public page it comes from;
// nothing else in src/ restates them.
import t from 'tap';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import * as platform from '../../src/requirements/platform.js';

const ROOT = join(import.meta.dirname, '..', '..');

t.test('every requirement names its public source, an https URL', async (t) => {
  const { REQUIREMENT_SOURCES, ...values } = platform;
  t.same(Object.keys(REQUIREMENT_SOURCES).sort(), Object.keys(values).sort(), 'one source per exported value, no source for a value that is gone');
  for (const [name, ref] of Object.entries(REQUIREMENT_SOURCES)) {
    for (const part of ref.split('; ')) {
      t.match(part, /^https:\/\/\S+$/, `${name}: ${part}`);
      t.notMatch(part, /learn\.microsoft\.com\/en-us\//, `${name}: locale-free address`);
    }
  }
  // The management endpoint's pages are retired: the ports cite the pre-November-2022 article's source, as the findings do.
  t.match(REQUIREMENT_SOURCES.MANAGEMENT_PORTS, /github\.com\/MicrosoftDocs\/sql-docs\/blob\/[0-9a-f]{40}\//);
});

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** Literal copies of platform values in code (comments and help texts may name the numbers). */
const COPIES: ReadonlyArray<[RegExp, string]> = [
  [/['"`]168\.63\.129\.16(\/32)?['"`]/, 'AZURE_DNS'],
  [/\bport: (1433|3342)\b/, 'GATEWAY_PORT / PUBLIC_ENDPOINT_PORT'],
  [/(\?\?|=) 11000\b/, 'REDIRECT_PORTS'],
  [/portsOf\(9000, 9003/, 'MANAGEMENT_CORPNET_PORTS'],
  [/\[9000, 9003, 1438, 1440, 1452\]/, 'MANAGEMENT_PORTS'],
];

t.test('no literal copy of a platform value outside src/requirements/platform.ts', async (t) => {
  const found: string[] = [];
  for (const file of sources(join(ROOT, 'src'))) {
    const rel = relative(ROOT, file);
    if (rel === join('src', 'requirements', 'platform.ts')) continue;
    readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
      if (/^\s*(\/\/|\*|\/\*)/.test(line)) return;
      for (const [re, constant] of COPIES) if (re.test(line)) found.push(`${rel}:${i + 1} copies ${constant}: ${line.trim()}`);
    });
  }
  t.same(found, []);
});

t.test('docs/revocation.md lists every default revocation endpoint, and no other', async (t) => {
  const doc = readFileSync(join(ROOT, 'docs', 'revocation.md'), 'utf8');
  const listed = [...doc.matchAll(/^\| (http:\/\/\S+) \|/gm)].map((m) => m[1]);
  t.same(listed, [...platform.REVOCATION_ENDPOINTS]);
  t.match(readFileSync(join(ROOT, 'README.md'), 'utf8'), /\[docs\/revocation\.md\]\(docs\/revocation\.md\) lists them with their public sources/);
});
