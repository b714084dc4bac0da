// Which names /probe may diagnose: the configured instances, names matching
// the patterns of agent.probeTargets, or, only when agent.probeAnyTarget opens
// it, any name. Without a fence, whoever reaches the port chooses the hosts the
// agent probes from inside the VNet.

/** A pattern of agent.probeTargets: an exact name, or "*.<rest>" where "*" is exactly one label. */
function matches(pattern: string, fqdn: string): boolean {
  if (!pattern.startsWith('*.')) return pattern === fqdn;
  const rest = pattern.slice(1); // ".<rest>"
  return fqdn.endsWith(rest) && fqdn.length > rest.length && !fqdn.slice(0, fqdn.length - rest.length).includes('.');
}

export type FenceAnswer = { readonly allowed: true } | { readonly allowed: false; readonly reason: string };

export class ProbeFence {
  private readonly names: ReadonlySet<string>;
  private readonly patterns: readonly string[];

  /** `names`: the configured instances (every shard's); `patterns`: agent.probeTargets; `open`: agent.probeAnyTarget. */
  constructor(names: Iterable<string>, patterns: readonly string[], private readonly open: boolean) {
    this.names = new Set([...names].map((n) => n.toLowerCase()));
    this.patterns = patterns.map((p) => p.toLowerCase().replace(/\.$/, ''));
  }

  /** `fqdn` as parseTarget normalised it. */
  check(fqdn: string): FenceAnswer {
    const name = fqdn.toLowerCase();
    if (this.open || this.names.has(name) || this.patterns.some((p) => matches(p, name))) return { allowed: true };
    return { allowed: false, reason: `target "${name}" is not a configured instance and matches no agent.probeTargets pattern: list it under instances or agent.probeTargets (docs/agent.md, "Running it safely")` };
  }
}
