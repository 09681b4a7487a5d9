import type { CloudEvent } from '../../canonical/cloud-event';
import type { ClaimedDelivery } from '../../delivery/delivery.service';
import type { DestinationEntity, DestinationType } from '../destination.entity';

/** What one attempt looked like on the wire, for the attempt log. */
export interface AttemptDetail {
  statusCode?: number;
  /** The response (or the CRM's error message), capped by the caller. */
  responseBody?: string;
  durationMs: number;
}

/**
 * What an adapter made of one delivery (STYLE: classify errors where the vendor's knowledge lives). The deliver job
 * turns it into a delivery status and schedules retries; it knows nothing about any CRM.
 */
export type AdapterOutcome =
  | ({ outcome: 'succeeded' } & AttemptDetail)
  /** Try again later: network failures, 5xx, rate limits. `afterMs` is the receiver's own ask (Retry-After). */
  | ({ outcome: 'retry'; reason: string; afterMs?: number } & AttemptDetail)
  /** Never retried: validation errors, conflicts, refused targets. `disable` also switches the destination off. */
  | ({ outcome: 'failed'; reason: string; disable?: string } & AttemptDetail)
  /** An older state of the entity than the one already applied (DESIGN §1 no stale overwrite): not sent. */
  | { outcome: 'superseded'; reason: string; durationMs: number }
  /** The same payload was applied last time: nothing to send. */
  | { outcome: 'unchanged'; reason: string; durationMs: number };

export interface DeliveryContext {
  delivery: ClaimedDelivery;
  destination: DestinationEntity;
  /** The destination's `config`, with its sealed secrets opened. */
  config: Record<string, unknown>;
  event: CloudEvent;
  /** The overall deadline of this attempt (HUB_DELIVERY_TIMEOUT). */
  deadlineMs: number;
}

/** How a destination type's `config` is checked and stored. */
export interface AdapterConfigSpec {
  /** Keys sealed at rest and never returned by the API (tokens). */
  secretKeys: string[];
  /** Keys that must be given. */
  required: string[];
  /** Values used when a key is not given (the vendors' public base URLs, field names). */
  defaults: Record<string, string>;
  /** Keys holding URLs the hub calls: checked against the SSRF guard like a webhook URL. */
  urlKeys: string[];
  /** Further checks; returns a problem to answer 400 with, or undefined. */
  validate?(config: Record<string, unknown>): string | undefined;
}

/**
 * One destination type: webhook, hubspot, salesforce, pipedrive. Each lives in its own folder under
 * src/destinations/adapters/<type>/ with its client, its error rules and its tests.
 */
export interface DestinationAdapter {
  readonly type: DestinationType;
  /** Attempts in flight per destination per worker; unset: HUB_DESTINATION_CONCURRENCY. CRM adapters batch. */
  readonly maxInFlight?: number;
  readonly configSpec?: AdapterConfigSpec;
  deliver(context: DeliveryContext): Promise<AdapterOutcome>;
  /** Quota use per destination id, for /health and /metrics (e.g. Salesforce's daily API budget). */
  health?(): Record<string, QuotaReport>;
}

/** How much of a CRM's budget a destination has used, as the CRM last said. */
export interface QuotaReport {
  used: number;
  max: number;
  /** True while non-urgent writes are deferred because the budget is nearly spent. */
  deferring?: boolean;
  /** Anything else worth showing (the short-window limit, throttles seen). */
  detail?: Record<string, unknown>;
}

/** Nest multi-provider token: every adapter class registers under it. */
export const DESTINATION_ADAPTERS = Symbol('DESTINATION_ADAPTERS');
