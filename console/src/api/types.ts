/**
 * Shapes of the hub's answers the console reads. They follow the OpenAPI document at /docs-json and, for the
 * routes landing beside the console (issues, stats, destination health), CONTRACTS.md.
 */

export interface Session {
  csrfToken: string;
  expiresAt: string;
}

export interface VerificationDescription {
  scheme: string;
  headers: string[];
  toleranceSeconds?: number;
  secretsRequired: boolean;
  secretFormat?: string;
}

export interface Connector {
  id: string;
  name: string;
  vendorDoc?: string;
  verification: VerificationDescription;
  alternativeVerification: VerificationDescription[];
  setup: { where: string; steps: string[]; secret?: string };
  events: { type: string; description?: string; samples: string[] }[];
}

export interface Sample {
  event: string;
  name: string;
  payload: unknown;
}

export interface Source {
  id: string;
  name: string;
  connector: string;
  url: string;
  verification: Record<string, unknown>;
  effectiveVerification: VerificationDescription;
  secretsConfigured: number;
  enabled: boolean;
  archivedAt?: string;
  createdAt: string;
  updatedAt: string;
}

export interface DestinationHealth {
  successRate: number | null;
  delivered24h: number;
  failed24h: number;
  backlog: number;
  lastSuccessAt: string | null;
  lastFailureAt: string | null;
  lastError: string | null;
}

export interface Destination {
  id: string;
  name: string;
  type: string;
  url?: string;
  config?: Record<string, unknown>;
  configSecrets?: string[];
  eventTypes: string[];
  includeTest: boolean;
  status: 'active' | 'disabled' | string;
  enabled?: boolean;
  disabledReason?: string | null;
  disabledAt?: string | null;
  health?: DestinationHealth;
  secret?: string;
  createdAt: string;
  updatedAt: string;
}

export interface Page<T> {
  items: T[];
  nextCursor?: string;
}

export interface InboundEventSummary {
  id: string;
  sourceId: string;
  vendorEventType: string;
  vendorEventId?: string;
  status: 'received' | 'normalized' | 'failed' | string;
  error?: string;
  test: boolean;
  receivedAt: string;
  occurredAt?: string;
  purgedAt?: string;
}

export interface DeliveryAttempt {
  attempt: number;
  startedAt: string;
  durationMs: number | null;
  statusCode: number | null;
  outcome: string;
  error: string | null;
  responseBody: string | null;
  nextAttemptAt: string | null;
}

export interface Delivery {
  id: string;
  destinationId: string;
  canonicalEventId: string;
  status: string;
  attempts: number;
  nextAttemptAt: string | null;
  lastError: string | null;
  createdAt: string;
  updatedAt: string;
  attempts_log?: DeliveryAttempt[];
}

export interface CloudEvent {
  id: string;
  type: string;
  subject?: string;
  time?: string;
  data?: unknown;
  revision?: number;
  [key: string]: unknown;
}

export interface InboundEventDetail extends InboundEventSummary {
  connector?: string;
  verification?: { scheme: string; [key: string]: unknown };
  headers: Record<string, string>;
  payloadFormat: 'json' | 'text';
  payload: unknown;
  canonical: CloudEvent[];
  revisions?: { revision: number; normalizedAt: string; mappingVersion: string | null; events: number }[];
  deliveries: Delivery[];
}

export interface MappingProblem {
  path: string;
  message: string;
}

export interface MappingError {
  code: string;
  message: string;
  output?: number;
  problems?: MappingProblem[];
}

export interface PreviewResult {
  mappingVersion: string;
  events: CloudEvent[];
  errors: MappingError[];
  durationMs: number;
}

export interface MappingVersion {
  version: number;
  expression: string;
  comment: string | null;
  createdAt: string;
  active: boolean;
}

export interface MappingDetail {
  kind: 'inbound' | 'destination';
  connector?: string;
  eventType?: string;
  origin: 'file' | 'override';
  version: string;
  changedAt?: string;
  storedVersions?: number;
  expression: string;
  versions: MappingVersion[];
}

export interface DryRunEvent {
  inboundEventId: string;
  receivedAt: string;
  ok: boolean;
  error?: MappingError;
  stored: boolean;
  diff: { path: string; before?: unknown; after?: unknown }[];
}

export interface DryRunResult {
  total: number;
  passed: number;
  failed: number;
  changed: number;
  unchanged: number;
  events: DryRunEvent[];
}

export type IssueKind = 'delivery' | 'mapping' | 'verification' | 'enrichment';

export interface IssueGroup {
  id: string;
  kind: IssueKind;
  title: string;
  key: {
    destinationId?: string;
    status?: string;
    code?: string;
    connector?: string;
    eventType?: string;
    reason?: string;
    sourceId?: string;
  };
  count: number;
  firstSeenAt: string;
  lastSeenAt: string;
  sampleIds: string[];
  action: null | { kind: 'retry' | 'renormalize'; label: string };
}

export interface Stats {
  from: string;
  to: string;
  bucketSeconds: number;
  connectors: { connector: string; accepted: number[]; rejected: number[]; failed: number[] }[];
  destinations: { destinationId: string; name: string; type: string; delivered: number[]; failed: number[] }[];
}
