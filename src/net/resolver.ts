// The shape every component that looks host names up is given (the probes'
// context builds it from miprobe's own DNS client). Never throws.

export interface HostResolution {
  readonly addresses: readonly string[];
  readonly error?: { readonly code: string; readonly message: string };
}

/** Resolves a host name to addresses within `timeoutMs`; never throws. */
export type HostResolver = (host: string, opts: { readonly timeoutMs: number; readonly signal: AbortSignal }) => Promise<HostResolution>;
