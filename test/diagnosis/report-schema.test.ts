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

t.test('the check table and the schema agree: every check id, every section', async (t) => {
  const { CHECK_TABLE } = await import('../../src/checks/table.js');
  const s = schema as { properties: Record<string, unknown>; $defs: { checkId: { enum: string[] } } };
  t.same(s.$defs.checkId.enum, CHECK_TABLE.map((r) => r.id), 'config/report.schema.json lists the table\'s checks, in order');
  for (const row of CHECK_TABLE) t.ok(row.section in s.properties, `${row.id} writes to "${row.section}", a property of the schema`);
  const r = await runCli(['demo', '--scenario', 'dns-nxdomain', '--json', '--timeout', '800']);
  const doc = JSON.parse(r.stdout) as { checks: Array<{ check?: string; skipped?: string; causedBy?: string; detail: string }>; findings: Array<{ check?: string }> };
  t.ok(doc.checks.every((l) => l.check !== undefined && s.$defs.checkId.enum.includes(l.check)), 'every line names its check');
  t.ok(doc.findings.every((f) => f.check !== undefined), 'every finding names its check');
  const gateway = doc.checks.find((l) => l.check === 'gateway');
  t.match(gateway, { skipped: 'not-reached', causedBy: 'DNS-001', detail: /^not reached: / }, 'a check whose needs failed says so, structured');
});

t.test('docs/checks.md is generated from the check table and up to date', async (t) => {
  const { CHECK_TABLE } = await import('../../src/checks/table.js');
  const { renderChecksMarkdown } = await import('../../src/report/checks-doc.js');
  const file = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'checks.md'), 'utf8');
  t.equal(file, renderChecksMarkdown(CHECK_TABLE), 'run `npm run docs:findings` after changing the table');
});
