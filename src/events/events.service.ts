import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { CanonicalEventService, StoredCanonicalEvent } from '../canonical/canonical-event.service';
import { scanJson } from '../common/json-depth';
import { decodeCursor, Page, toPage } from '../common/page-cursor';
import { ConnectorRegistry } from '../connectors/connector.registry';
import { tokenHeader } from '../connectors/verifiers/header-token.verifier';
import { DeliveryService } from '../delivery/delivery.service';
import { DestinationEntity } from '../destinations/destination.entity';
import { DestinationService } from '../destinations/destination.service';
import { InboundEventService, InboundEventSummary, InboundLogFilter } from '../ingest/inbound-event.service';
import { PipelineQueue } from '../pipeline/pipeline.queue';
import { RoutingService } from '../routing/routing.service';
import { SourceService } from '../sources/source.service';
import { ListEventsQuery } from './events.dto';
import { EventErrorCode, EventException } from './events.exception';

/** Most inbound events one subject filter looks at; a subject is one record, so this is far above real use. */
const MAX_SUBJECT_EVENTS = 5000;

/**
 * The inbound log ops read, and the two ways to send an event again: re-normalise (the current mapping, a new
 * revision only when the output changed) and replay (the stored output, again). Every table is reached through
 * the service that owns it.
 */
@Injectable()
export class EventsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly inbound: InboundEventService,
    private readonly canonical: CanonicalEventService,
    private readonly deliveries: DeliveryService,
    private readonly sources: SourceService,
    private readonly connectors: ConnectorRegistry,
    private readonly destinations: DestinationService,
    private readonly routing: RoutingService,
    private readonly queue: PipelineQueue,
  ) {}

  async list(query: ListEventsQuery): Promise<Page<InboundEventSummary>> {
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    if (query.cursor !== undefined && !after) {
      throw new EventException(EventErrorCode.BadCursor, 'cursor is not a cursor this API returned');
    }
    const filter: InboundLogFilter = {
      status: query.status,
      vendorEventType: query.vendorEventType,
      vendorEventId: query.vendorEventId,
      test: query.test,
      from: query.from,
      to: query.to,
      enrichmentStatus: query.enrichment,
    };
    if (query.connector !== undefined) {
      const ids = (await this.sources.list()).filter((s) => s.connector === query.connector).map((s) => s.id);
      filter.sourceIds = query.sourceId === undefined ? ids : ids.filter((id) => id === query.sourceId);
    } else if (query.sourceId !== undefined) {
      filter.sourceIds = [query.sourceId];
    }
    if (query.subject !== undefined) {
      filter.ids = await this.canonical.inboundIdsWithSubject(query.subject, MAX_SUBJECT_EVENTS);
    }
    const rows = await this.inbound.list(filter, after && { receivedAt: after.at, id: after.id }, query.limit + 1);
    const page = toPage(rows, query.limit);
    return { ...page, items: page.items.map(compact) };
  }

  /** One document: payload, redacted headers, verification scheme, every canonical revision, deliveries, attempts. */
  async get(id: string) {
    const row = await this.inbound.get(id);
    if (!row) throw new EventException(EventErrorCode.NotFound, `Event ${id} not found`);
    const [source, canonical, deliveries, enrichment] = await Promise.all([
      this.sources.find(row.sourceId),
      this.canonical.forInbound(id),
      this.deliveries.forInbound(id),
      this.inbound.enrichmentOf(id),
    ]);
    const { body, headers, ...summary } = row;
    const verification = source ? this.verificationOf(source.connector, source.verification) : undefined;
    return {
      ...compact(summary),
      ...(source ? { connector: source.connector } : {}),
      ...(verification ? { verification } : {}),
      headers: redactHeaders(headers, verification?.tokenHeader),
      ...renderPayload(body),
      // Issue 12: status, tries, the reason it failed, whether the stored document was cut, and the document.
      ...(enrichment ? { enrichment } : {}),
      canonical: canonical.map((stored) => ({ ...stored.event, revision: stored.revision })),
      // The timeline's "normalised" steps: when each revision was stored and which mapping version produced it.
      revisions: revisionsOf(canonical),
      deliveries,
    };
  }

  /**
   * Any event goes back to `received` and through the current mapping. Output equal to the stored one changes
   * nothing; a different one becomes the next revision, delivered as new deliveries (NormalizeJob).
   */
  async renormalize(id: string): Promise<InboundEventSummary> {
    const reopened = await this.inbound.reopen(id);
    if (!reopened) {
      const existing = await this.inbound.get(id);
      if (!existing) throw new EventException(EventErrorCode.NotFound, `Event ${id} not found`);
      throw new EventException(
        EventErrorCode.PayloadPurged,
        `Event ${id} cannot be re-normalised: its payload was purged by retention (HUB_RETENTION_DAYS)`,
      );
    }
    await this.queue.normalize([id]);
    return compact(reopened);
  }

  /**
   * Many events through the current mapping again, as renormalize does for one: the bulk re-normalise of an issues
   * group. Events whose payload retention purged are left out. Returns how many were sent back.
   */
  async renormalizeMany(ids: string[]): Promise<number> {
    if (!ids.length) return 0;
    const reopened = await this.inbound.reopenMany(ids);
    await this.queue.normalize(reopened);
    return reopened.length;
  }

  /**
   * Issue 12: fetch the event's document again, then normalise it again (a changed output becomes a new revision,
   * as with re-normalise). Needs a connector that declares a fetch for the type and a source with an API key.
   */
  async enrich(id: string): Promise<InboundEventSummary> {
    const row = await this.inbound.get(id);
    if (!row) throw new EventException(EventErrorCode.NotFound, `Event ${id} not found`);
    const source = await this.sources.find(row.sourceId);
    const connector = source && this.connectors.find(source.connector);
    if (!source || !connector || !this.connectors.enrichmentFor(connector, row.vendorEventType)) {
      throw new EventException(
        EventErrorCode.NotEnrichable,
        `Event ${id} cannot be enriched: ${source?.connector ?? 'its connector'} declares no enrichment for ` +
          `${row.vendorEventType}`,
      );
    }
    if (!source.enrichmentKeySealed) {
      throw new EventException(
        EventErrorCode.NotEnrichable,
        `Event ${id} cannot be enriched: source "${source.name}" (${source.id}) has no enrichment API key; set one ` +
          `with PATCH /api/sources/${source.id} {"enrichment": {"apiKey": …}}`,
      );
    }
    const reopened = await this.inbound.reopenEnrichment(id);
    if (!reopened) {
      throw new EventException(
        EventErrorCode.PayloadPurged,
        `Event ${id} cannot be enriched: its payload was purged by retention (HUB_RETENTION_DAYS)`,
      );
    }
    await this.queue.enrich([{ id, sourceId: source.id }]);
    return compact(reopened);
  }

  /**
   * The newest revision's canonical events, delivered again: finished deliveries go back to pending, and a
   * destination that matches now but had no delivery gets one. Deliveries still on their way are left alone.
   */
  async replay(id: string, destinationId?: string): Promise<{ replayed: number; deliveryIds: string[] }> {
    if (!(await this.inbound.get(id))) throw new EventException(EventErrorCode.NotFound, `Event ${id} not found`);
    const latest = await this.canonical.latest(id);
    if (!latest) {
      throw new EventException(
        EventErrorCode.NoOutput,
        `Event ${id} has no canonical events to replay; re-normalise it instead`,
      );
    }
    let targets: DestinationEntity[];
    if (destinationId !== undefined) {
      const destination = await this.destinations.find(destinationId);
      if (!destination) {
        throw new EventException(EventErrorCode.DestinationNotFound, `Destination ${destinationId} not found`);
      }
      targets = destination.status === 'active' ? [destination] : [];
    } else {
      targets = await this.destinations.active();
    }
    const eventIds = latest.events.map((event) => event.id);
    const again = await this.dataSource.transaction(async (manager) => {
      const created: { id: string; destinationId: string }[] = [];
      for (const event of latest.events) {
        const routed = await this.routing.route(manager, event, targets);
        created.push(...routed.filter((d) => d.status === 'pending'));
      }
      return [...created, ...(await this.deliveries.resetForEvents(manager, eventIds, destinationId))];
    });
    if (destinationId !== undefined && !again.length) {
      const existing = (await this.deliveries.forInbound(id)).filter(
        (d) => d.destinationId === destinationId && eventIds.includes(d.canonicalEventId),
      );
      if (!existing.length) {
        throw new EventException(
          EventErrorCode.DestinationNotMatching,
          `Destination ${destinationId} takes none of event ${id}'s canonical events (types, test flag or filter)`,
        );
      }
    }
    await this.queue.deliver(again);
    return { replayed: again.length, deliveryIds: again.map((d) => d.id) };
  }

  private verificationOf(connectorId: string, overrides: Record<string, unknown>) {
    let connector;
    try {
      connector = this.connectors.get(connectorId);
    } catch {
      return undefined; // a connector removed since: the event stays readable
    }
    const scheme = this.connectors.schemeFor(connector, overrides);
    const settings = this.connectors.settingsFor(connector, overrides);
    return { scheme, ...settings, ...(scheme === 'header-token' ? { tokenHeader: tokenHeader(settings) } : {}) };
  }
}

function compact<T extends object>(row: T): T {
  return Object.fromEntries(Object.entries(row).filter(([, v]) => v !== null && v !== undefined)) as T;
}

/** Header names that carry credentials. Ingest drops them before storage; this guards rows stored otherwise. */
const CREDENTIAL_HEADER =
  /^(authorization|proxy-authorization|cookie|set-cookie|x-api-key)$|token|secret|password|api[-_]?key/i;

/** One entry per revision of an event's canonical output, oldest first. */
export function revisionsOf(
  stored: StoredCanonicalEvent[],
): { revision: number; normalizedAt: Date; mappingVersion: string | null; events: number }[] {
  const byRevision = new Map<
    number,
    { revision: number; normalizedAt: Date; mappingVersion: string | null; events: number }
  >();
  for (const row of stored) {
    const entry = byRevision.get(row.revision);
    if (entry) entry.events++;
    else
      byRevision.set(row.revision, {
        revision: row.revision,
        normalizedAt: row.createdAt,
        mappingVersion: row.mappingVersion,
        events: 1,
      });
  }
  return [...byRevision.values()];
}

export const REDACTED = '[redacted]';

/** Headers as shown: a credential's value is replaced, never shown, even if one reached storage. */
export function redactHeaders(headers: Record<string, string>, tokenHeaderName?: string): Record<string, string> {
  const token = tokenHeaderName?.toLowerCase();
  return Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [
      name,
      CREDENTIAL_HEADER.test(name) || name.toLowerCase() === token ? REDACTED : value,
    ]),
  );
}

/**
 * Deepest payload rendered as JSON. Serialising the response recurses once per level, so a vendor body nested
 * 100 000 deep (accepted at /hooks, which stores bytes as received) would overflow the stack and answer 500.
 */
export const MAX_RENDERED_PAYLOAD_DEPTH = 512;

export interface RenderedPayload {
  /** `json`: `payload` is the parsed body. `text`: the raw body as a string (not JSON, or too deep to render). */
  payloadFormat: 'json' | 'text';
  payload: unknown;
}

function renderPayload(body: Buffer): RenderedPayload {
  const text = body.toString('utf8');
  if (scanJson(text, MAX_RENDERED_PAYLOAD_DEPTH).depth > MAX_RENDERED_PAYLOAD_DEPTH) {
    return { payloadFormat: 'text', payload: text };
  }
  try {
    return { payloadFormat: 'json', payload: JSON.parse(text) };
  } catch {
    return { payloadFormat: 'text', payload: text };
  }
}
