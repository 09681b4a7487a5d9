import { normalizeEmail, normalizePhone } from '../shared/identity';
import { Lookup, PipedriveContext, updatedSince } from './pipedrive-records';

/** Pipedrive v2 person, as far as the hub reads it. */
export interface PipedrivePerson {
  id: number;
  name?: string;
  emails?: { value: string; primary?: boolean }[];
  phones?: { value: string; primary?: boolean }[];
  add_time?: string;
}

interface SearchData {
  items?: { result_score?: number; item?: { id?: number } }[];
}

/** The match keys of a person in the ledger (identity.ts): `email:<address>` and `phone:<E.164>`. */
export function identityKeys(body: { emails?: { value: string }[]; phones?: { value: string }[] }): string[] {
  const emails = (body.emails ?? []).map((e) => normalizeEmail(e.value)).filter((e): e is string => !!e);
  const phones = (body.phones ?? []).map((p) => normalizePhone(p.value)).filter((p): p is string => !!p);
  return [...emails.map((e) => `email:${e}`), ...phones.map((p) => `phone:${p}`)];
}

/**
 * `GET /api/v2/persons/search?term&fields=email|phone&exact_match=true`: one search for one identity key. Pipedrive
 * matches phones as stored, so a number saved with spaces is not found by its E.164 form.
 */
export async function searchPerson(ctx: PipedriveContext, key: string): Promise<Lookup> {
  const [field, ...rest] = key.split(':');
  const answer = await ctx.client.call<SearchData>(
    ctx.settings,
    {
      method: 'GET',
      path: '/api/v2/persons/search',
      query: { term: rest.join(':'), fields: field, exact_match: true, limit: 10 },
    },
    ctx.deadline,
  );
  if (!answer.ok) return { ok: false, error: answer };
  const ids = (answer.data?.items ?? []).map((i) => i.item?.id).filter((id): id is number => typeof id === 'number');
  // Several people sharing one email or phone: take the oldest (lowest id), the one most likely meant.
  return { ok: true, id: ids.length ? Math.min(...ids) : undefined };
}

/**
 * Finds the person a subject may already have: one exact search, by its email or else its phone. A person
 * with neither is looked up after an ambiguous create only, among persons added since the create was sent, by
 * exact name: Pipedrive offers no other marker on a person without a custom field.
 */
export async function lookupPerson(
  ctx: PipedriveContext,
  body: { name?: unknown; emails?: { value: string }[]; phones?: { value: string }[] },
  since?: Date,
): Promise<Lookup> {
  const keys = identityKeys(body);
  const first = keys.find((k) => k.startsWith('email:')) ?? keys[0];
  // Issue 8: the ledger first, then one search: the primary email, else the phone.
  if (first) return searchPerson(ctx, first);
  if (!since || typeof body.name !== 'string') return { ok: true };
  const answer = await ctx.client.call<PipedrivePerson[]>(
    ctx.settings,
    {
      method: 'GET',
      path: '/api/v2/persons',
      query: { updated_since: updatedSince(since), sort_by: 'add_time', sort_direction: 'desc', limit: 500 },
    },
    ctx.deadline,
  );
  if (!answer.ok) return { ok: false, error: answer };
  const from = since.getTime() - 60_000;
  const match = (answer.data ?? []).find(
    (p) => p.name === body.name && (!p.add_time || Date.parse(p.add_time) >= from) && !p.emails?.length,
  );
  return { ok: true, id: match?.id };
}
