// The revocation section of `demo --json` validates against
// config/report.schema.json with the new result shapes (what proved a
// service, what answered instead, findings caused by another), and the
// schema can still fail on them. The demo picks its own loopback block.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { runCli } from '../helpers/capture.js';

const schema = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'config', 'report.schema.json'), 'utf8')) as object;
const validate = new Ajv2020({ allErrors: true, strict: false }).compile(schema);

interface Doc {
  revocation: { endpoints: Array<Record<string, unknown>> };
  findings: Array<Record<string, unknown>>;
}

for (const [scenario, code] of [['healthy', 0], ['revocation-captive-portal', 0], ['revocation-proxy-407', 0]] as const) {
  t.test(`demo ${scenario} --json matches the schema`, async (t) => {
    const r = await runCli(['demo', '--scenario', scenario, '--json', '--timeout', '3000']);
    t.equal(r.code, code, r.stderr);
    const doc = JSON.parse(r.stdout) as Doc;
    t.ok(validate(doc), JSON.stringify(validate.errors));
    const endpoints = doc.revocation.endpoints;
    t.equal(endpoints.length, 8);
    if (scenario === 'healthy') {
      t.ok(endpoints.every((e) => e.ok === true && typeof e.service === 'object'), 'every platform endpoint proved its service');
    } else {
      t.ok(endpoints.every((e) => e.ok === false && typeof e.answer === 'object'), 'what answered instead is in the document');
    }
  });
}

t.test('the schema rejects malformed revocation results (it can fail)', async (t) => {
  const r = await runCli(['demo', '--scenario', 'revocation-captive-portal', '--json', '--timeout', '3000']);
  const doc = JSON.parse(r.stdout) as Doc;
  const withEndpoint = (patch: Record<string, unknown>): unknown =>
    ({ ...doc, revocation: { ...doc.revocation, endpoints: [{ ...doc.revocation.endpoints[0], ...patch }] } });
  t.ok(validate(withEndpoint({})), 'unchanged: valid');
  t.notOk(validate(withEndpoint({ kind: 'ldap' })), 'an unknown kind');
  t.notOk(validate(withEndpoint({ answer: { status: 'two hundred' } })), 'a status that is not a number');
  t.notOk(validate(withEndpoint({ answer: { firstBytes: 'x'.repeat(5000) } })), 'an unbounded preview');
  t.notOk(validate({ ...doc, findings: [{ ...doc.findings[0], causedBy: 'the DNS' }] }), 'causedBy must be a finding id');
});
