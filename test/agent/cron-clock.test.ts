// The agent's cron clock agrees with node-cron on when an expression fires,
// without Intl (so ICU's data is never mapped); node-cron's special day fields
// are left to node-cron; a tick reached too late is reported, not run.
import t from 'tap';
import cron from 'node-cron';
import { ClockTask, cronClock } from '../../src/agent/cron-clock.js';

const EXPRESSIONS = ['*/30 * * * * *', '0 */15 * * * *', '*/15 * * * *', '*/7 * * * *', '0 0 * * *', '15 10 * * 1-5', '0 0 0 1 jan,feb mon',
  '5,35 */2 * * * *', '0 30 2 * * *', '0 0 12 * * 0', '0 0 12 * * 7', '59 59 23 31 12 *', '0 0 0 29 2 *', '*/3 * * * * *'];

t.test('the same next runs as node-cron', async (t) => {
  for (const expr of EXPRESSIONS) {
    const theirs = cron.createTask(expr, () => undefined).getNextRuns(6);
    const clock = cronClock(expr);
    t.ok(clock, `${expr}: a clock`);
    const ours: Date[] = [];
    let at = new Date((theirs[0]?.getTime() ?? 0) - 1);
    for (let i = 0; i < theirs.length; i++) {
      const n = clock?.next(at);
      if (!n) break;
      ours.push(n);
      at = n;
    }
    t.same(ours.map((d) => d.toISOString()), theirs.map((d) => d.toISOString()), expr);
  }
  for (const expr of ['0 0 0 L * *', '0 0 0 * * 1#2', '0 0 0 * * 5L', '0 0 12 15W * *']) t.equal(cronClock(expr), undefined, `${expr}: left to node-cron`);
});

t.test('a clock task ticks, and reports a tick reached too late instead of running it', async (t) => {
  const clock = cronClock('* * * * * *');
  if (!clock) throw new Error('no clock');
  let ticks = 0;
  const missed: Date[] = [];
  const task = new ClockTask(clock, () => { ticks += 1; }, { missedToleranceMs: 300, onMissed: (at) => missed.push(at) });
  task.start();
  t.teardown(() => task.stop());
  await new Promise((r) => setTimeout(r, 2300));
  t.ok(ticks >= 2, `ticks every second (${ticks})`);
  // Block the event loop past the next tick and the tolerance.
  const until = Date.now() + 1400;
  while (Date.now() < until) { /* busy */ }
  await new Promise((r) => setTimeout(r, 50));
  t.ok(missed.length >= 1, 'the late tick is reported as missed');
  const before = ticks;
  task.stop();
  await new Promise((r) => setTimeout(r, 1200));
  t.equal(ticks, before, 'stop() stops it');
});
