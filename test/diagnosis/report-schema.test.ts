// The JSON document validates against config/report.schema.json, for a
// healthy and a failing diagnosis; the findings catalog is well formed.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { runCli } from '../helpers/capture.js';
import { CATALOG } from '../../src/diagnosis/catalog/index.js';

const schemaPath = join(import.meta.dirname, '..', '..', 'config', 'report.schema.json');
const schema = JSON.parse(readFileSync(schemaPath, 'utf8')) as object;
const ajv = new Ajv2020({ allErrors: true, strict: false });
const validate = ajv.compile(schema);

for (const scenario of ['healthy', 'dns-nxdomain', 'no-vnet-label', 'custom-dns-missing']) {
  t.test(`demo ${scenario} --json matches the schema`, async (t) => {
    const r = await runCli(['demo', '--scenario', scenario, '--json', '--timeout', '800']);
    const doc = JSON.parse(r.stdout) as unknown;
    const ok = validate(doc);
    t.ok(ok, JSON.stringify(validate.errors));
  });
}

t.test('a document that breaks the contract is rejected (the schema can fail)', async (t) => {
  const r = await runCli(['demo', '--json']);
  const doc = JSON.parse(r.stdout) as Record<string, unknown>;
  t.notOk(validate({ ...doc, verdict: 'fine' }));
  t.notOk(validate({ ...doc, findings: [{ id: 'dns1', severity: 'critical' }] }));
  const dataPath = doc.dataPath as Record<string, unknown>;
  t.ok(dataPath, 'the healthy demo has a dataPath section');
  t.notOk(validate({ ...doc, dataPath: { ...dataPath, tcp: { ok: true, state: 'maybe' } } }));
  t.notOk(validate({ ...doc, dataPath: { ...dataPath, login: { ok: false, code: 'X', mode: 'sql', password: 'p' } } }), 'a password field is never valid');
});

t.test('findings catalog: unique, well-formed ids, every field filled', async (t) => {
  const ids = CATALOG.map((d) => d.id);
  t.equal(new Set(ids).size, ids.length, 'ids are unique');
  for (const d of CATALOG) {
    t.match(d.id, /^[A-Z]+-\d{3}$/, `${d.id} form`);
    t.ok(['critical', 'warning', 'info'].includes(d.severity), `${d.id} severity`);
    t.ok(d.title.length > 10 && d.fix.length > 20 && d.ref.length > 5, `${d.id} has title, fix and ref`);
  }
});

t.test('docs/findings.md is generated from the catalog and up to date', async (t) => {
  const { renderCatalogMarkdown } = await import('../../src/report/catalog-doc.js');
  const file = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'findings.md'), 'utf8');
  t.equal(file, renderCatalogMarkdown(CATALOG), 'run `npm run docs:findings` after changing the catalog');
});
