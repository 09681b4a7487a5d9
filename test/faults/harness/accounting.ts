import { Client } from 'pg';
import { percentile, waitUntil } from './env';
import { LoadResult } from './load-generator';
import { Arrival, VerifyingSink } from './verifying-sink';

export interface Accounting {
  acknowledged: number;
  /** Distinct canonical events of acknowledged inbound events that reached the sink. */
  delivered: number;
  /** Acknowledged inbound events with a canonical event that never arrived (or with no canonical event at all). */
  lost: number;
  /** Acknowledged ids with no inbound_event row: a 2xx for something never committed. */
  uncommittedAcks: number;
  /** Arrivals beyond the first per canonical event. */
  duplicates: number;
  /** Every arrival of one event carried the same webhook-id (the delivery id). */
  duplicatesShareWebhookId: boolean;
  /** Duplicates not explained by a lost lease (more arrivals of a delivery than times it was claimed). */
  unexplainedDuplicates: number;
  maxAckToDeliveryMs: number | null;
  p99AckToDeliveryMs: number | null;
  /** Inbound statuses of the lost events, e.g. {received: 3}: where they got stuck. */
  lostByStatus: Record<string, number>;
  lostSample: string[];
}

interface Expected {
  inbound: Map<string, { status: string; error: string | null }>;
  /** canonical id → inbound id */
  canonical: Map<string, string>;
  /** canonical id → delivery (for this destination) */
  deliveries: Map<string, { id: string; status: string; attempts: number }>;
}

async function expected(db: Client, inboundIds: string[], destinationId: string): Promise<Expected> {
  const inbound = await db.query<{ id: string; status: string; error: string | null }>(
    'SELECT id, status, error FROM inbound_event WHERE id = ANY($1)',
    [inboundIds],
  );
  const canonical = await db.query<{ id: string; inbound_event_id: string }>(
    'SELECT id, inbound_event_id FROM canonical_event WHERE inbound_event_id = ANY($1)',
    [inboundIds],
  );
  const deliveries = await db.query<{ id: string; canonical_event_id: string; status: string; attempts: number }>(
    `SELECT d.id, d.canonical_event_id, d.status, d.attempts FROM delivery d
     JOIN canonical_event c ON c.id = d.canonical_event_id
     WHERE c.inbound_event_id = ANY($1) AND d.destination_id = $2`,
    [inboundIds, destinationId],
  );
  return {
    inbound: new Map(inbound.rows.map((r) => [r.id, { status: r.status, error: r.error }])),
    canonical: new Map(canonical.rows.map((r) => [r.id, r.inbound_event_id])),
    deliveries: new Map(deliveries.rows.map((r) => [r.canonical_event_id, r])),
  };
}

/**
 * Waits (bounded by `settleMs`) until every acknowledged inbound event's canonical events reached the sink
 * route, then counts. The hub's database maps inbound id → canonical ids; the sink's verified arrivals say what
 * was delivered. Never throws on a shortfall: the counts are the result.
 */
export async function account(
  db: Client,
  acks: LoadResult[],
  sink: VerifyingSink,
  route: string,
  destinationId: string,
  settleMs: number,
): Promise<Accounting> {
  const inboundIds = [...new Set(acks.map((a) => a.inboundId!))];
  const missing = async () => {
    const state = await expected(db, inboundIds, destinationId);
    const arrived = new Set(sink.arrivalsOf(route).map((a) => a.eventId));
    const eventsOf = new Map<string, string[]>();
    for (const [canonicalId, inboundId] of state.canonical) {
      eventsOf.set(inboundId, [...(eventsOf.get(inboundId) ?? []), canonicalId]);
    }
    const lost = inboundIds.filter((id) => {
      const events = eventsOf.get(id) ?? [];
      return !events.length || events.some((c) => !arrived.has(c));
    });
    return { state, lost };
  };
  let last = await missing();
  await waitUntil(
    async () => {
      last = await missing();
      return last.lost.length === 0;
    },
    { timeoutMs: settleMs, intervalMs: 1000, what: 'every acknowledged event to arrive' },
  ).catch(() => undefined);

  const { state, lost } = last;
  const byEvent = new Map<string, Arrival[]>();
  for (const arrival of sink.arrivalsOf(route)) {
    if (!state.canonical.has(arrival.eventId)) continue;
    byEvent.set(arrival.eventId, [...(byEvent.get(arrival.eventId) ?? []), arrival]);
  }
  const ackAt = new Map(acks.map((a) => [a.inboundId!, a.doneAt]));
  const ackToDelivery: number[] = [];
  let duplicates = 0;
  let unexplained = 0;
  let shareWebhookId = true;
  for (const [eventId, arrivals] of byEvent) {
    duplicates += arrivals.length - 1;
    if (new Set(arrivals.map((a) => a.webhookId)).size > 1) shareWebhookId = false;
    const claims = state.deliveries.get(eventId)?.attempts ?? 0;
    // A second arrival needs a second claim: the worker that sent the first lost its lease before recording.
    unexplained += Math.max(0, arrivals.length - Math.max(1, claims));
    const acked = ackAt.get(state.canonical.get(eventId)!);
    if (acked !== undefined) ackToDelivery.push(arrivals[0].at - acked);
  }
  const lostByStatus: Record<string, number> = {};
  for (const id of lost) {
    const status = state.inbound.get(id)?.status ?? 'no row';
    lostByStatus[status] = (lostByStatus[status] ?? 0) + 1;
  }
  return {
    acknowledged: inboundIds.length,
    delivered: byEvent.size,
    lost: lost.length,
    uncommittedAcks: inboundIds.filter((id) => !state.inbound.has(id)).length,
    duplicates,
    duplicatesShareWebhookId: shareWebhookId,
    unexplainedDuplicates: unexplained,
    maxAckToDeliveryMs: ackToDelivery.length ? Math.max(...ackToDelivery) : null,
    p99AckToDeliveryMs: percentile(ackToDelivery, 99),
    lostByStatus,
    lostSample: lost.slice(0, 5),
  };
}
