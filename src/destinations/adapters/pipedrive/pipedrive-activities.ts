import type { CloudEvent } from '../../../canonical/cloud-event';
import { normalizeEmail, normalizePhone } from '../shared/identity';
import { searchPerson } from './pipedrive-persons';
import { Lookup, PipedriveContext, updatedSince } from './pipedrive-records';
import { PipedriveError } from './pipedrive.errors';
import { isRetryable } from './pipedrive.errors';

/** Pages of 500 scanned for a marker after an ambiguous create: the create is minutes old at most. */
const LOOKUP_PAGES = 4;

interface ActivityItem {
  id: number;
  note?: string | null;
}

export interface Participants {
  /** Pipedrive person ids, the primary one first. */
  personIds: number[];
  /** Identities no person was found for: recorded in the attempt log, not an error (issue 8). */
  unmatched: string[];
  /** A search that failed in a way worth retrying: the activity is written, its associations retried. */
  error?: PipedriveError;
}

/**
 * The activity's people: linked contacts and leads through the ledger (they were written before, dependency
 * order), then each participant by email or E.164 phone, first in the ledger (`email:…`, `phone:…`), then by one
 * exact search in Pipedrive, whose answer is kept in the ledger for next time.
 */
export async function resolveParticipants(ctx: PipedriveContext, event: CloudEvent): Promise<Participants> {
  const data = event.data as {
    participants?: { email?: string; phone?: string }[];
    links?: { contactIds?: string[]; leadId?: string };
  };
  const destinationId = ctx.settings.destinationId;
  const ids: number[] = [];
  const unmatched: string[] = [];
  const add = (id: string | number) => {
    const n = Number(id);
    if (Number.isInteger(n) && !ids.includes(n)) ids.push(n);
  };
  const linked = [
    ...(data.links?.contactIds ?? []).map((id) => `contact:${event.connector}:${id}`),
    ...(data.links?.leadId ? [`lead:${event.connector}:${data.links.leadId}`] : []),
  ];
  for (const subject of linked) {
    const entry = await ctx.ledger.get(destinationId, subject, 'person');
    if (entry?.crmId) add(entry.crmId);
    else unmatched.push(subject);
  }
  for (const participant of data.participants ?? []) {
    const email = normalizeEmail(participant.email);
    const phone = normalizePhone(participant.phone);
    const keys = [...(email ? [`email:${email}`] : []), ...(phone ? [`phone:${phone}`] : [])];
    if (!keys.length) continue;
    let found: string | undefined;
    for (const key of keys) {
      const entry = await ctx.ledger.get(destinationId, key, 'person');
      if (entry?.crmId) {
        found = entry.crmId;
        break;
      }
    }
    if (!found) {
      const searched = await searchPerson(ctx, keys[0]);
      if (!searched.ok) {
        if (isRetryable(searched.error.code)) return { personIds: ids, unmatched, error: searched.error };
        unmatched.push(keys[0]);
        continue;
      }
      if (searched.id !== undefined) {
        found = String(searched.id);
        await ctx.ledger.record(destinationId, keys[0], 'person', { crmId: found });
      }
    }
    if (found) add(found);
    else unmatched.push(keys.join(' / '));
  }
  return { personIds: ids, unmatched };
}

/** `participants` (v2) with the first as primary, and `person_id` as that primary one. */
export function associationBody(personIds: number[]): Record<string, unknown> {
  if (!personIds.length) return {};
  return {
    person_id: personIds[0],
    participants: personIds.map((id, i) => ({ person_id: id, primary: i === 0 })),
  };
}

/**
 * After an ambiguous create: `GET /api/v2/activities?updated_since&sort_by=update_time` (narrowed to the primary
 * person when there is one) and the marker in each activity's note. Pipedrive has no search over activities.
 */
export async function lookupActivity(
  ctx: PipedriveContext,
  marker: string,
  personId: number | undefined,
  since: Date,
): Promise<Lookup> {
  let cursor: string | undefined;
  for (let page = 0; page < LOOKUP_PAGES; page++) {
    const answer = await ctx.client.call<ActivityItem[]>(
      ctx.settings,
      {
        method: 'GET',
        path: '/api/v2/activities',
        query: {
          person_id: personId,
          updated_since: updatedSince(since),
          sort_by: 'update_time',
          sort_direction: 'desc',
          limit: 500,
          cursor,
        },
      },
      ctx.deadline,
    );
    if (!answer.ok) return { ok: false, error: answer };
    const hit = (answer.data ?? []).find((a) => a.note?.includes(marker));
    if (hit) return { ok: true, id: hit.id };
    cursor = answer.additional?.next_cursor as string | undefined;
    if (!cursor) break;
  }
  return { ok: true };
}

/** `HH:MM` as Pipedrive's `duration` wants; whole minutes, rounded up so a 20-second call is not 00:00. */
export function pipedriveDuration(seconds: number): string {
  const minutes = Math.ceil(seconds / 60);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(Math.floor(minutes / 60))}:${pad(minutes % 60)}`;
}
