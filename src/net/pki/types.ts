// Results of revocation checks. Plain data (dates as ISO strings) so they go
// into the JSON report as they are.
import type { FetchErrorCode, FetchPhases } from './http.js';

export type RevocationErrorCode = FetchErrorCode | 'PARSE_ERROR' | 'WRONG_ISSUER' | 'OCSP_STATUS' | 'OCSP_NO_MATCH';

export type Freshness = 'fresh' | 'stale' | 'not-yet-valid';
export type SignatureState = 'valid' | 'invalid';

export interface CheckError {
  readonly code: RevocationErrorCode;
  readonly message: string;
}

interface SourceBase {
  readonly url: string;
  /** Served from the cache: no network traffic. */
  readonly cached: boolean;
  readonly seconds: number;
  readonly httpStatus?: number;
  readonly bytes?: number;
  readonly phases?: FetchPhases;
  /** Present when no usable answer was obtained (then ok is false). */
  readonly error?: CheckError;
}

export interface CrlCheck extends SourceBase {
  readonly kind: 'crl';
  /** True when a CRL was fetched, parsed, verified and is fresh (status is then authoritative). */
  readonly ok: boolean;
  readonly signature?: SignatureState;
  readonly freshness?: Freshness;
  readonly thisUpdate?: string;
  readonly nextUpdate?: string;
  readonly entries?: number;
  readonly status?: 'good' | 'revoked';
  readonly reason?: string;
  readonly revocationDate?: string;
}

export interface OcspCheck extends SourceBase {
  readonly kind: 'ocsp';
  readonly ok: boolean;
  readonly method: 'GET' | 'POST';
  readonly responseStatus?: string;
  readonly signature?: SignatureState;
  readonly signer?: 'issuer' | 'delegated' | 'unauthorised';
  readonly signatureDetail?: string;
  readonly freshness?: Freshness;
  readonly nonce?: 'match' | 'absent' | 'mismatch' | 'not-sent';
  readonly thisUpdate?: string;
  readonly nextUpdate?: string;
  readonly producedAt?: string;
  readonly status?: 'good' | 'revoked' | 'unknown';
  readonly reason?: string;
  readonly revocationDate?: string;
}

export type RevocationStatus = 'good' | 'revoked' | 'unknown' | 'unchecked';
