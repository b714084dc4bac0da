// The redirect-range sample: silent ports other than the routing port are a warning.
import t from 'tap';
import { dataPathChecks, dataPathFindings } from '../../src/diagnosis/datapath-rules.js';
import type { PortScanResult } from '../../src/probes/port-scan.js';

const scan = (states: Array<[number, 'open' | 'closed' | 'filtered' | 'unreachable']>): PortScanResult => ({
  ok: true, address: '10.0.0.9', skipped: [], seconds: 0.5,
  counts: { open: 0, closed: 0, filtered: 0, unreachable: 0, error: 0 },
  ports: states.map(([port, state]) => ({ port, state, seconds: 0.1 })),
});

t.test('closed, open and silent sample ports pass; refused ones warn', async (t) => {
  const clean = scan([[11000, 'open'], [11250, 'closed'], [11500, 'closed'], [11749, 'closed'], [11999, 'closed']]);
  t.same(dataPathFindings({ redirectPorts: clean }), []);
  t.match(dataPathChecks({ redirectPorts: clean }), [{ name: 'Redirect port sample', status: 'pass' }]);

  const silent = scan([[11000, 'open'], [11250, 'filtered'], [11500, 'filtered'], [11749, 'filtered'], [11999, 'filtered']]);
  t.same(dataPathFindings({ redirectPorts: silent }), [], 'silence may be the node\'s own firewall: no finding');

  const partial = scan([[11000, 'open'], [11250, 'unreachable'], [11500, 'closed'], [11749, 'unreachable'], [11999, 'filtered']]);
  const findings = dataPathFindings({ redirectPorts: partial });
  t.same(findings.map((f) => f.id), ['REDIRECT-006']);
  t.match(findings[0]?.evidence, /10\.0\.0\.9 on 11250, 11749 /);
  t.match(dataPathChecks({ redirectPorts: partial }), [{ name: 'Redirect port sample', status: 'warn' }]);
});
