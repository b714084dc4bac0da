// The watched set: instances from the config file plus --instance flags, each
// with its probe options merged over the global ones, filtered to this
// replica's shard by a stable hash of the name.
import { createHash } from 'node:crypto';
import { ConfigError } from '../config/load.js';
import type { AgentCheck, Config, InstanceConfig } from '../config/schema.js';
import { HostNameError, parseTarget, type TargetName } from '../diagnosis/target.js';

export interface PlannedInstance {
  readonly fqdn: string;
  readonly target: TargetName;
  readonly labels: Readonly<Record<string, string>>;
  /** The global config with this instance's probe options merged in. */
  readonly config: Config;
  /** Checks that apply to this instance (revocation and management can be switched off per instance). */
  readonly checks: ReadonlySet<AgentCheck>;
}

/** Stable shard of a name: the first 32 bits of SHA-256 of the lower-case FQDN, modulo n. */
export function shardOf(fqdn: string, n: number): number {
  return createHash('sha256').update(fqdn.toLowerCase()).digest().readUInt32BE(0) % n;
}

export function parseShard(text: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(text);
  const index = Number(m?.[1]);
  const count = Number(m?.[2]);
  if (!m || !(count >= 1) || !(index < count)) throw new ConfigError(`shard "${text}": expected i/n with 0 <= i < n, e.g. 0/3`);
  return { index, count };
}

function plan(config: Config, inst: InstanceConfig): PlannedInstance {
  let target: TargetName;
  try {
    target = parseTarget(inst.fqdn);
  } catch (err) {
    if (err instanceof HostNameError) throw new ConfigError(`instances: ${err.message}`);
    throw err;
  }
  const { fqdn: _fqdn, labels, ...probe } = inst;
  const defined = Object.fromEntries(Object.entries(probe).filter(([, v]) => v !== undefined));
  const merged: Config = { ...config, probe: { ...config.probe, ...defined } };
  const checks = new Set<AgentCheck>();
  const s = config.agent.schedules;
  if (s.nameResolution.enabled) checks.add('nameResolution');
  if (s.dataPath.enabled) checks.add('dataPath');
  if (s.management.enabled && merged.probe.managementPorts) checks.add('management');
  if (s.revocation.enabled && merged.probe.revocation) checks.add('revocation');
  return { fqdn: target.fqdn, target, labels, config: merged, checks };
}

/** Instances to watch: config entries, then flag names not already listed; duplicates are an error in the file. */
export function planInstances(config: Config, extraFqdns: readonly string[] = []): PlannedInstance[] {
  const out = new Map<string, PlannedInstance>();
  for (const inst of config.instances) {
    const p = plan(config, inst);
    if (out.has(p.fqdn)) throw new ConfigError(`instances: "${p.fqdn}" is listed twice`);
    out.set(p.fqdn, p);
  }
  for (const fqdn of extraFqdns) {
    const p = plan(config, { fqdn, labels: {} });
    if (!out.has(p.fqdn)) out.set(p.fqdn, p);
  }
  let all = [...out.values()];
  if (config.agent.shard) {
    const { index, count } = parseShard(config.agent.shard);
    all = all.filter((p) => shardOf(p.fqdn, count) === index);
  }
  return all;
}
