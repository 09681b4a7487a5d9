import { Lookup, PipedriveContext, updatedSince } from './pipedrive-records';

interface NoteItem {
  id: number;
  content?: string | null;
}

/** Pages of 500 scanned for a marker after an ambiguous create. */
const LOOKUP_PAGES = 4;

/**
 * After an ambiguous create: `GET /api/v1/notes?person_id&updated_since&sort=update_time DESC` and the marker in
 * each note's content. Pipedrive has no search over notes.
 */
export async function lookupNote(
  ctx: PipedriveContext,
  marker: string,
  personId: number,
  since: Date,
): Promise<Lookup> {
  let start = 0;
  for (let page = 0; page < LOOKUP_PAGES; page++) {
    const answer = await ctx.client.call<NoteItem[] | null>(
      ctx.settings,
      {
        method: 'GET',
        path: '/api/v1/notes',
        query: { person_id: personId, updated_since: updatedSince(since), sort: 'update_time DESC', start, limit: 500 },
      },
      ctx.deadline,
    );
    if (!answer.ok) return { ok: false, error: answer };
    const hit = (answer.data ?? []).find((n) => n.content?.includes(marker));
    if (hit) return { ok: true, id: hit.id };
    const pagination = answer.additional?.pagination as { more_items_in_collection?: boolean; next_start?: number };
    if (!pagination?.more_items_in_collection || pagination.next_start === undefined) break;
    start = pagination.next_start;
  }
  return { ok: true };
}
