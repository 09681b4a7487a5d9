import { Lookup, PipedriveContext } from './pipedrive-records';

interface SearchData {
  items?: { item?: { id?: number } }[];
}

/**
 * Organizations have no email or domain to match on in Pipedrive's search (`fields` is name, address, notes or
 * custom fields), so they are matched by exact name: `GET /api/v2/organizations/search?fields=name&exact_match`.
 */
export async function lookupOrganization(ctx: PipedriveContext, name: unknown): Promise<Lookup> {
  if (typeof name !== 'string' || !name.trim()) return { ok: true };
  const answer = await ctx.client.call<SearchData>(
    ctx.settings,
    {
      method: 'GET',
      path: '/api/v2/organizations/search',
      query: { term: name, fields: 'name', exact_match: true, limit: 10 },
    },
    ctx.deadline,
  );
  if (!answer.ok) return { ok: false, error: answer };
  const ids = (answer.data?.items ?? []).map((i) => i.item?.id).filter((id): id is number => typeof id === 'number');
  return { ok: true, id: ids.length ? Math.min(...ids) : undefined };
}
