// What a running simulated network is, as data: where its resolvers, gateway and
// node listen, the CA to trust, and how the diagnosis should log in. `demo --serve
// --json` prints it as one line; `demo` reads that line from the network it starts
// in a child process, so the simulator's CPU never runs inside the probes' clocks.
//
// API:
//   SimNetworkInfo                      JSON-serialisable
//   simConfigLayer(info) -> ConfigLayer points a diagnosis at the network, fenced to loopback
//   simSecretsEnv(info) -> env          the demo login's password, as the environment would give it
import type { ConfigLayer } from '../config/schema.js';
import type { LoginMode } from '../config/schema.js';

export interface SimNetworkInfo {
  readonly scenario: string;
  readonly fqdn: string;
  readonly subnet: string;
  /** Custom resolvers, "ip:port". */
  readonly resolvers: readonly string[];
  /** The stand-in for Azure's resolver 168.63.129.16, when the scenario has one. */
  readonly azureResolver?: string;
  /** The ILB / gateway, "ip:port". */
  readonly gateway: string;
  /** The redirect node's name and "ip:port" when the scenario redirects to a listening node, else null. */
  readonly nodeName: string | null;
  readonly node: string | null;
  /** "name:port" of the gateway's routing ENVCHANGE when it redirects logins (a node may or may not listen there), else null. */
  readonly redirectTo: string | null;
  /** PEM of the simulated root CA, readable by other processes. */
  readonly caFile: string;
  /** A freetds.conf next to caFile: a section per TDS endpoint, named after the server name it is reached by. */
  readonly freetdsConf: string;
  /** The demo login's password in a file (only this user can read it), for `--password-file`. */
  readonly sqlPasswordFile: string;
  /** The findings `miprobe diagnose` (commands.diagnose) reports for this scenario, exactly. */
  readonly expectFindings: readonly string[];
  /** What to run against the network; none of it leaves loopback or asks this machine's DNS. */
  readonly commands: ToolCommands;
  /** The platform revocation endpoints, on the simulated responders' port. */
  readonly revocationUrls: readonly string[];
  /** How a diagnosis of this scenario logs in, and whether it uses TDS 8 strict. */
  readonly login: LoginMode;
  readonly strict: boolean;
  /** The simulated engine's SQL login: demo values printed in the source, not a secret. */
  readonly sqlLogin: { readonly user: string; readonly password: string };
  /** A per-check deadline (ms) that suits the scenario: long enough for its slow-but-working peers. */
  readonly suggestedTimeoutMs: number;
}

export function simConfigLayer(info: SimNetworkInfo): ConfigLayer {
  return {
    allowCidrs: ['127.0.0.0/8'],
    dns: { servers: [...info.resolvers], ...(info.azureResolver ? { azureDns: info.azureResolver } : {}) },
    probe: {
      subnet: info.subnet, login: info.login, caFile: info.caFile, revocationUrls: [...info.revocationUrls], strict: info.strict,
      ...(info.login === 'sql' ? { user: info.sqlLogin.user } : {}),
    },
  };
}

export function simSecretsEnv(info: SimNetworkInfo): Record<string, string> {
  return info.login === 'sql' ? { MIPROBE_PASSWORD: info.sqlLogin.password } : {};
}

/** What a user runs against the simulated network (src/sim/tool-commands.ts makes them). */
export interface ToolCommands {
  /** `miprobe diagnose` with the demo's own settings: it reports exactly the scenario's expected findings. */
  readonly diagnose: string;
  readonly dig: string;
  /** One per listening TDS endpoint (gateway, then the node). */
  readonly nmap: readonly string[];
  /** null when tsql cannot reach the engine without a lookup in this machine's DNS (a redirect to no listening node). */
  readonly tsql: string | null;
  /** Why tsql goes where it goes (or is left out). */
  readonly tsqlNote: string;
}
