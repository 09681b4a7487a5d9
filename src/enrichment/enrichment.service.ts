import { Inject, Injectable } from '@nestjs/common';
import { scanJson } from '../common/json-depth';
import { HUB_CONFIG, HubConfig } from '../config/hub-config';
import { ConnectorDefinition, ConnectorEnrichment, readPath } from '../connectors/connector';
import { OutboundClient, OutboundErrorCode } from '../outbound/outbound.client';
import type { EnrichmentCredential } from '../sources/source.service';
import { boundDocument } from './enrichment-document';

/**
 * Why an enrichment failed, stable enough to group on (the issues view keys on source + code). Only `retry`
 * outcomes carry the retryable ones; they become the final code when the tries run out.
 */
export enum EnrichmentErrorCode {
  /** 401 or 403: the source's API key is wrong or lacks access. Never retried. */
  Unauthorized = 'unauthorized',
  /** Another 4xx (404: the vendor does not know the id). Never retried. */
  Rejected = 'rejected',
  Throttled = 'throttled',
  ServerError = 'server_error',
  TimedOut = 'timed_out',
  Network = 'network',
  /** The base URL resolves to a private, loopback or link-local address HUB_OUTBOUND_ALLOW does not list. */
  Refused = 'refused',
  /** The answer is not usable JSON (or too large, or too deep to read). */
  BadResponse = 'bad_response',
  /** The payload lacks a value the request path needs (e.g. data.id). */
  MissingValue = 'missing_value',
  /** No key, no base URL, no declaration for the event, or the source is gone. */
  NotConfigured = 'not_configured',
}

export type EnrichmentOutcome =
  | { outcome: 'enriched'; document: Record<string, unknown>; truncated: boolean; bytes: number; durationMs: number }
  | { outcome: 'retry'; code: EnrichmentErrorCode; reason: string; retryAfterSeconds?: number; durationMs: number }
  | { outcome: 'failed'; code: EnrichmentErrorCode; reason: string; durationMs: number };

export interface EnrichmentRequest {
  connector: ConnectorDefinition;
  declaration: ConnectorEnrichment;
  source: { id: string; name: string };
  credential: EnrichmentCredential;
  /** The parsed vendor payload the path template reads. */
  payload: unknown;
  deadlineMs: number;
}

/** Deepest document kept: the mapping worker refuses anything deeper, so storing it would only fail later. */
const MAX_DOCUMENT_DEPTH = 64;

/**
 * Fetches what a vendor event points to, with the declaration from connector.yaml and the source's credential,
 * through the hub's one outbound client (deadline, SSRF guard, keep-alive, no redirects), and classifies the answer
 * the way deliveries are classified: 2xx JSON → enriched; 429, 5xx, timeouts and network errors → retry (with
 * Retry-After); 401/403 → failed, naming the source; anything else → failed. It never throws for a vendor's fault.
 */
@Injectable()
export class EnrichmentService {
  constructor(
    private readonly client: OutboundClient,
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
  ) {}

  /** The URL of the fetch, or the reason there is none. The credential never appears in it. */
  urlFor(request: Pick<EnrichmentRequest, 'declaration' | 'credential' | 'payload'>): {
    url?: string;
    problem?: string;
  } {
    const base = request.credential.baseUrl ?? request.declaration.baseUrl;
    if (!base) return { problem: 'no API base URL: set enrichment.baseUrl on the source' };
    let problem: string | undefined;
    const path = request.declaration.path.replace(/\{([\w.]+)\}/g, (_match, at: string) => {
      const value = readPath(request.payload, at);
      if ((typeof value !== 'string' && typeof value !== 'number') || String(value) === '') {
        problem ??= `the payload has no ${at} for ${request.declaration.path}`;
        return '';
      }
      return encodeURIComponent(String(value));
    });
    return problem ? { problem } : { url: `${base.replace(/\/+$/, '')}${path}` };
  }

  async fetch(request: EnrichmentRequest): Promise<EnrichmentOutcome> {
    const { declaration, connector, source } = request;
    const target = this.urlFor(request);
    if (!target.url) {
      const code = target.problem!.startsWith('no API base URL')
        ? EnrichmentErrorCode.NotConfigured
        : EnrichmentErrorCode.MissingValue;
      return { outcome: 'failed', code, reason: `${connector.name} enrichment: ${target.problem}`, durationMs: 0 };
    }
    const what = `${connector.name} API (${declaration.method} ${declaration.path})`;
    const result = await this.client.request({
      method: declaration.method,
      url: target.url,
      headers: {
        [declaration.auth.header]: declaration.auth.value.replace('{apiKey}', request.credential.apiKey),
        accept: 'application/json',
        'user-agent': 'Switchboard-Enrichment/0.1',
      },
      deadlineMs: request.deadlineMs,
      responseCapBytes: this.responseCapBytes,
    });
    const durationMs = result.durationMs;
    if (result.statusCode === undefined) {
      const code =
        result.errorCode === OutboundErrorCode.TimedOut
          ? EnrichmentErrorCode.TimedOut
          : result.errorCode === OutboundErrorCode.Refused
            ? EnrichmentErrorCode.Refused
            : EnrichmentErrorCode.Network;
      const reason = `${what}: ${result.error ?? 'no answer'}`;
      // A refused target or an unsendable request fails the same way every time.
      if (result.errorCode === OutboundErrorCode.Refused || result.errorCode === OutboundErrorCode.InvalidRequest) {
        return { outcome: 'failed', code, reason, durationMs };
      }
      return { outcome: 'retry', code, reason, durationMs };
    }
    const status = result.statusCode;
    if (status === 401 || status === 403) {
      return {
        outcome: 'failed',
        code: EnrichmentErrorCode.Unauthorized,
        reason:
          `${what} answered HTTP ${status} for source "${source.name}" (${source.id}): its enrichment API key is ` +
          `wrong or lacks access; set the right one with PATCH /api/sources/${source.id} {"enrichment": {"apiKey": …}}`,
        durationMs,
      };
    }
    if (status === 429 || status === 408) {
      return {
        outcome: 'retry',
        code: EnrichmentErrorCode.Throttled,
        reason: `${what} answered HTTP ${status}`,
        retryAfterSeconds: result.retryAfterSeconds,
        durationMs,
      };
    }
    if (status >= 500) {
      return {
        outcome: 'retry',
        code: EnrichmentErrorCode.ServerError,
        reason: `${what} answered HTTP ${status}`,
        retryAfterSeconds: result.retryAfterSeconds,
        durationMs,
      };
    }
    if (status < 200 || status >= 300) {
      return {
        outcome: 'failed',
        code: EnrichmentErrorCode.Rejected,
        reason: `${what} answered HTTP ${status}`,
        durationMs,
      };
    }
    return this.read(what, declaration.into, result.body ?? '', result.truncated === true, durationMs);
  }

  /** The most of an answer read: a few times the stored bound, since a cut answer is no longer JSON. */
  get responseCapBytes(): number {
    return Math.max(4 * this.config.enrichmentMaxBytes, 4 * 1024 * 1024);
  }

  /** The answer, bounded, under the declaration's `into`: what the mapping reads as `$enrichment.<into>`. */
  private read(what: string, into: string, body: string, cut: boolean, durationMs: number): EnrichmentOutcome {
    const bad = (why: string): EnrichmentOutcome => ({
      outcome: 'failed',
      code: EnrichmentErrorCode.BadResponse,
      reason: `${what}: ${why}`,
      durationMs,
    });
    if (cut) return bad(`the answer is larger than ${this.responseCapBytes} bytes`);
    if (scanJson(body, MAX_DOCUMENT_DEPTH).depth > MAX_DOCUMENT_DEPTH) {
      return bad(`the answer nests deeper than ${MAX_DOCUMENT_DEPTH} levels`);
    }
    let parsed: unknown;
    try {
      // Postgres jsonb cannot hold NUL characters: they are dropped from strings.
      parsed = JSON.parse(body, (_key, value: unknown) =>
        typeof value === 'string' && value.includes('\u0000') ? value.split('\u0000').join('') : value,
      );
    } catch {
      return bad('the answer is not JSON');
    }
    if (parsed === null || typeof parsed !== 'object') return bad('the answer is not a JSON object or array');
    const bounded = boundDocument(parsed, this.config.enrichmentMaxBytes);
    return {
      outcome: 'enriched',
      document: { [into]: bounded.document },
      truncated: bounded.truncated,
      bytes: bounded.bytes,
      durationMs,
    };
  }
}
