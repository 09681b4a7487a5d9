import type { VerificationScheme } from './verifiers/verifier';

/** A connector is data (connectors/<id>/connector.yaml) plus one verifier from the catalogue. */
export interface ConnectorDefinition {
  id: string;
  name: string;
  /** Which vendor document it follows (shared/vendor-docs/…). */
  vendorDoc?: string;
  verification: ConnectorVerification;
  /** What to do in the vendor's settings to point it at a source; shown by the console. */
  setup: ConnectorSetup;
  envelope: EnvelopePaths;
  events: ConnectorEvent[];
  /** Vendor events that only point to their content, and how to fetch it (issue 12). Empty: none. */
  enrichment: ConnectorEnrichment[];
}

/**
 * One fetch declared in connector.yaml: when an event of type `event` arrives at a source that has an API
 * credential, the hub calls `method baseUrl + path` with the credential in `auth.header`, stores the answer with
 * the event and hands it to the mapping as `$enrichment.<into>`.
 */
export interface ConnectorEnrichment {
  event: string;
  method: 'GET' | 'POST';
  /** Path under the base URL; `{a.b}` is the URL-encoded value at that dot path of the payload. */
  path: string;
  /** The header that carries the source's credential; `{apiKey}` in `value` is replaced by it (default: the key). */
  auth: { header: string; value: string };
  /** The vendor's documented API base URL; absent when the vendor documents none (each source then gives one). */
  baseUrl?: string;
  /** Where the result goes: the mapping reads it as `$enrichment.<into>`. */
  into: string;
}

/**
 * The connector's scheme and its default settings. `alternatives` are schemes a source may opt into with
 * `"verification": {"scheme": …}`, each with its own defaults (Salescaling: hmac-sha256 once the vendor signs).
 */
export type ConnectorVerification = {
  scheme: VerificationScheme;
  alternatives?: Partial<Record<VerificationScheme, Record<string, unknown>>>;
} & Record<string, unknown>;

/** Vendor-specific setup instructions, from the vendor's own document (shared/vendor-docs/). */
export interface ConnectorSetup {
  /** Where in the vendor's product the webhook settings are, e.g. "Asan CRM → Settings → Integrations → Webhooks". */
  where: string;
  /** The steps in order; "the source URL" is the source's `url`. */
  steps: string[];
  /** What goes into the source's `secrets` (absent when the connector needs none, e.g. url-token). */
  secret?: string;
}

/** Dot paths into the parsed body. Ops can fix a path without a release. */
export interface EnvelopePaths {
  eventType: string;
  eventId?: string;
  occurredAt?: string;
  /** `unix` when the vendor sends unix seconds (telephony `timestamp_utc`). */
  occurredAtFormat?: 'iso' | 'unix';
  test?: string;
  /** `eventId` dedups on the vendor's id; `body` (default) on a SHA-256 of the raw bytes. */
  dedup?: 'eventId' | 'body';
}

export interface ConnectorEvent {
  type: string;
  description?: string;
  /** Sample files under samples/; defaults to `<type>.json`. */
  samples: string[];
}

export interface Envelope {
  eventType: string;
  eventId?: string;
  occurredAt?: Date;
  test: boolean;
  dedupKey: string;
}

export function readPath(body: unknown, path: string | undefined): unknown {
  if (!path) return undefined;
  let value: unknown = body;
  for (const key of path.split('.')) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}
