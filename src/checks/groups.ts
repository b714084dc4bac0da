// The agent's checks: groups of rows of the check table, each with its own
// schedule. The one list every part reads (config schema, agent, metrics).

/** Scheduled apart by the agent; `diagnose` runs them all. */
export const CHECK_GROUPS = ['nameResolution', 'dataPath', 'management', 'revocation'] as const;

export type CheckGroup = (typeof CHECK_GROUPS)[number];

export const ALL_GROUPS: ReadonlySet<CheckGroup> = new Set(CHECK_GROUPS);
