import type { IncomingHttpHeaders } from 'node:http';

export type VerificationScheme = 'standard-webhooks' | 'hmac-sha256' | 'header-token' | 'url-token';

export interface VerifyInput {
  rawBody: Buffer;
  headers: IncomingHttpHeaders;
  remoteAddress: string;
  secrets: string[];
  /** Connector defaults merged with the source's overrides. */
  settings: Record<string, unknown>;
}

/** Why a delivery failed verification; logged and counted, and answered with a 401 that names the reason. */
export type VerificationFailure =
  | 'missing_header'
  | 'bad_signature'
  | 'stale_timestamp'
  | 'bad_timestamp'
  | 'bad_token'
  | 'ip_not_allowed'
  | 'no_secret';

export class VerificationError extends Error {
  constructor(
    readonly reason: VerificationFailure,
    message: string,
  ) {
    super(message);
  }
}

export interface VerifierDescription {
  scheme: VerificationScheme;
  /** Request headers the vendor must send. */
  headers: string[];
  secretsRequired: boolean;
  secretFormat?: string;
  /** How far a signed timestamp may be from now, when the scheme checks one. */
  toleranceSeconds?: number;
}

/** One entry of the fixed verifier catalogue (DESIGN §3). Verifiers read the raw bytes, never re-serialised JSON. */
export interface Verifier {
  readonly scheme: VerificationScheme;
  /** Throws VerificationError when the delivery is not authentic. */
  verify(input: VerifyInput): void;
  /** Problems with settings or secrets a source is about to be saved with. */
  validate(settings: Record<string, unknown>, secrets: string[]): string[];
  describe(settings: Record<string, unknown>): VerifierDescription;
}

export function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}
