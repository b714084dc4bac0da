// The metric families the agent exposes for each watched instance: name,
// help and label names in one table, which docs/metrics.md mirrors (a test
// checks that every family here is documented there).
//
// Conventions (Prometheus "Writing exporters"): prefix miprobe_, base units,
// `_info` for metadata, enums as one series per state with value 0 or 1, no
// success/failed label pairs, no raw error strings as labels.

export interface FamilyDef {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
}

const f = (name: string, labelNames: readonly string[], help: string): FamilyDef => ({ name, help, labelNames });

/** Families rendered from the latest diagnosis of each instance and check (all gauges). */
export const INSTANCE_FAMILIES = {
  instanceInfo: f('miprobe_instance_info', ['instance', 'kind'], 'A watched instance: its kind of name (vnet-local, public-endpoint, private-link, custom-domain) and the labels given in the config; always 1.'),
  checkSuccess: f('miprobe_check_success', ['instance', 'check'], '1 when the latest run of the check completed, reached what it checks, and had no critical finding (name resolution included), 0 otherwise.'),
  checkDuration: f('miprobe_check_duration_seconds', ['instance', 'check'], 'Wall time of the latest completed run of the check.'),
  checkLastCompleted: f('miprobe_check_last_completed_timestamp_seconds', ['instance', 'check'], 'Unix time the latest run of the check completed (alert on staleness with time() minus this).'),
  checkLastError: f('miprobe_check_error', ['instance', 'check'], '1 when the latest run of the check did not complete (deadline passed or internal error), 0 otherwise.'),
  dnsSuccess: f('miprobe_dns_resolve_success', ['instance', 'resolver', 'role'], '1 when the resolver returned addresses for the instance name, 0 otherwise.'),
  dnsDuration: f('miprobe_dns_lookup_duration_seconds', ['instance', 'resolver', 'role'], 'Time the resolver took to resolve the instance name (CNAME chain included).'),
  dnsAddresses: f('miprobe_dns_addresses', ['instance', 'resolver', 'role'], 'Number of addresses the resolver returned for the instance name.'),
  dnsCoverageFailures: f('miprobe_dns_required_names_failing', ['instance', 'resolver'], 'Names the instance depends on that the custom resolver failed to resolve.'),
  managementPresent: f('miprobe_management_endpoint_present', ['instance'], '1 when the CNAME chain has a ".vnet" label, i.e. a legacy management endpoint exists.'),
  portState: f('miprobe_port_state', ['instance', 'endpoint', 'port', 'state'], 'State of each probed TCP port: one series per state (open, closed, filtered, unreachable, error), 1 for the state seen.'),
  portConnectDuration: f('miprobe_port_connect_duration_seconds', ['instance', 'endpoint', 'port'], 'TCP connect time of the probed port (until the answer or the deadline).'),
  phaseDuration: f('miprobe_data_path_phase_duration_seconds', ['instance', 'phase'], 'Time of each data path phase (tcp, prelogin, tls, login) of the latest run.'),
  tlsExpiry: f('miprobe_tls_certificate_expiry_timestamp_seconds', ['instance', 'endpoint'], 'Unix time the leaf certificate served on the data path expires.'),
  tlsInfo: f('miprobe_tls_version_info', ['instance', 'endpoint', 'version'], 'TLS protocol version negotiated on the data path; always 1.'),
  tlsTrusted: f('miprobe_tls_certificate_trusted', ['instance', 'endpoint'], '1 when the served chain verified against the trust store and matched the host name.'),
  revocationStatus: f('miprobe_revocation_status', ['instance', 'status'], 'Revocation status of the served certificate chain: one series per status (good, revoked, unknown, unchecked), 1 for the status seen.'),
  revocationEndpointUp: f('miprobe_revocation_endpoint_up', ['instance', 'host'], '1 when the platform revocation endpoint answered as the CA\'s service from this network (a CRL that parses, an OCSP response), 0 otherwise (unreachable, or a portal, proxy or filter answered instead).'),
  finding: f('miprobe_finding', ['instance', 'id', 'severity'], 'One series per active finding of the instance (value 1); id is the stable catalog id (docs/findings.md).'),
} as const satisfies Record<string, FamilyDef>;

export type InstanceFamily = keyof typeof INSTANCE_FAMILIES;

export const PORT_STATES = ['open', 'closed', 'filtered', 'unreachable', 'error'] as const;
export const REVOCATION_STATES = ['good', 'revoked', 'unknown', 'unchecked'] as const;
