// Findings about the host miprobe runs on rather than the network (HOST-).
import type { FindingDefinition } from '../finding.js';

export const HOST = {
  stalled: { id: 'HOST-001', severity: 'warning', title: 'miprobe itself was stalled during the diagnosis: timeouts may be this host\'s, not the network\'s',
    fix: 'The process could not run for a large part of a deadline (the host\'s CPUs were busy, or the process was paused). Timeouts and slow timings marked as caused by this finding may not be the network\'s: re-run when the host is less busy, or with a longer --timeout.',
    ref: 'docs/timings.md (how miprobe measures its own stalls and keeps its work off the probes\' clocks)' },
} as const satisfies Record<string, FindingDefinition>;
