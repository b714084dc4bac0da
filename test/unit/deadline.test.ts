// startDeadline: aborts at the deadline or with the parent, and once done() is called it never
// fires (no timer left behind, no listener left on the parent).
import t from 'tap';
import { setTimeout as sleep } from 'node:timers/promises';
import { remainingMs, startDeadline, TimeoutError } from '../../src/net/deadline.js';

t.test('aborts at the deadline with a TimeoutError', async (t) => {
  const d = startDeadline({ timeoutMs: 20 });
  t.equal(d.signal.aborted, false);
  await sleep(60);
  t.equal(d.signal.aborted, true);
  t.ok(d.signal.reason instanceof TimeoutError);
  t.equal((d.signal.reason as TimeoutError).timeoutMs, 20);
});

t.test('follows the parent, with the parent\'s reason', async (t) => {
  const parent = new AbortController();
  const d = startDeadline({ timeoutMs: 10_000, signal: parent.signal });
  parent.abort('shutdown');
  t.equal(d.signal.aborted, true);
  t.equal(d.signal.reason, 'shutdown');
  d.done();
  const already = startDeadline({ timeoutMs: 10_000, signal: parent.signal });
  t.equal(already.signal.aborted, true, 'an aborted parent aborts at once');
  already.done();
});

t.test('done() clears the timer and leaves the parent alone', async (t) => {
  const parent = new AbortController();
  const d = startDeadline({ timeoutMs: 20, signal: parent.signal });
  let fired = 0;
  d.signal.addEventListener('abort', () => { fired++; });
  d.done();
  await sleep(60);
  parent.abort();
  t.equal(fired, 0, 'neither the deadline nor the parent reach a finished operation');
  t.equal(d.signal.aborted, false);
});

t.test('remainingMs never goes below 1', async (t) => {
  t.equal(remainingMs(performance.now() - 5000, 100), 1);
  t.ok(remainingMs(performance.now(), 1000) > 900);
});
