// `miprobe demo` compares the findings with the scenario's: a stall of the process
// itself (HOST-001, a busy machine) is reported as seen, with why, and is not a mismatch;
// nor are the timeouts it caused, directly or through another consequence.
import t from 'tap';
import { compareFindings, describeComparison } from '../../src/cli/demo.js';
import type { Finding } from '../../src/diagnosis/finding.js';

function f(id: string, causedBy?: string, evidence = `seen ${id}`): Finding {
  return { id, severity: causedBy ? 'info' : 'critical', title: id, fix: 'x', ref: 'docs/findings.md', evidence, ...(causedBy ? { causedBy } : {}) };
}

const STALL = 'the process could not run for up to 1900 ms at a time (2100 ms in all) against deadlines of 1500 ms';

t.test('exactly the expected findings', async (t) => {
  const c = compareFindings(['LOGIN-001'], [f('LOGIN-001')]);
  t.same(c, { expected: ['LOGIN-001'], found: ['LOGIN-001'], same: true });
  t.equal(describeComparison(c), 'Expected findings: LOGIN-001; the diagnosis found exactly these.');
});

t.test('login-failed on a busy machine: HOST-001 is seen, said why, and not a mismatch', async (t) => {
  const c = compareFindings(['LOGIN-001'], [f('HOST-001', undefined, STALL), f('LOGIN-001')]);
  t.equal(c.same, true);
  t.same(c.found, ['LOGIN-001']);
  t.same(c.stalled, { evidence: STALL, caused: [] });
  const text = describeComparison(c);
  t.match(text, /^Expected findings: LOGIN-001; the diagnosis found exactly these\.\n/);
  t.match(text, /\nAlso seen: HOST-001 \(the process could not run for up to 1900 ms.*\): this machine was too busy to run miprobe on time; that is not the simulated network's doing, so it is not counted\.$/);
  t.notMatch(text, /found: HOST-001/);
});

t.test('timeouts the stall caused (directly or through a consequence) are left out and named', async (t) => {
  const c = compareFindings(['LOGIN-012'], [f('HOST-001', undefined, STALL), f('LOGIN-012'), f('TDS-001', 'HOST-001'), f('LOGIN-006', 'TDS-001')]);
  t.equal(c.same, true);
  t.same(c.stalled?.caused, ['LOGIN-006', 'TDS-001']);
  t.match(describeComparison(c), /nor the timeouts it caused \(LOGIN-006, TDS-001\)\.$/);
});

t.test('an expected finding the stall also touched still counts; a real mismatch is still one', async (t) => {
  const slow = compareFindings(['TDS-001', 'LOGIN-006'], [f('HOST-001', undefined, STALL), f('TDS-001', 'HOST-001'), f('LOGIN-006', 'HOST-001')]);
  t.equal(slow.same, true, 'slow-prelogin: its timeouts are the expected ones');
  t.same(slow.found, ['LOGIN-006', 'TDS-001']);

  const missing = compareFindings(['LOGIN-001'], [f('HOST-001', undefined, STALL)]);
  t.equal(missing.same, false, 'a stall does not excuse a missing finding');
  t.match(describeComparison(missing), /the diagnosis found: none\./);

  const extra = compareFindings(['LOGIN-012'], [f('LOGIN-012'), f('TLS-002')]);
  t.equal(extra.same, false, 'without a stall nothing is left out');
  t.same(extra.found, ['LOGIN-012', 'TLS-002']);
  t.equal(extra.stalled, undefined);
});
