import type { AttemptDetail } from '../destination-adapter';
import { Batcher, CRM_BATCH_WINDOW_MS } from '../shared/batcher';
import { HubspotClient, HubspotTarget } from './hubspot.client';
import { HubspotError, HubspotErrorCode } from './hubspot.errors';
import type { HubspotObjectType } from './hubspot-objects';

/** HubSpot batch endpoints take at most 100 inputs. */
export const HUBSPOT_BATCH_MAX = 100;

export interface UpsertItem {
  target: HubspotTarget;
  objectType: HubspotObjectType;
  idProperty: string;
  /** The unique value: the email, the domain, or the canonical subject. */
  id: string;
  properties: Record<string, string>;
  /** The state version, so that two writes of one record in one batch merge oldest first. */
  version: number;
  deadlineAt: number;
}

export type UpsertResult =
  { ok: true; crmId: string; detail: AttemptDetail } | { ok: false; error: HubspotError; detail: AttemptDetail };

/** `POST /crm/v3/objects/{objectType}/batch/upsert` answer (BatchResponseSimplePublicUpsertObject[WithErrors]). */
interface UpsertAnswer {
  status?: string;
  results?: { id: string; new?: boolean; properties?: Record<string, string | null> }[];
  errors?: { message?: string; category?: string; context?: Record<string, string[]> }[];
}

/**
 * Batch upserts (issue 8: batching). Deliveries for one destination and object type that are due together go out as
 * one `batch/upsert` of up to 100 inputs, and each delivery still gets its own result. Two writes of one record in
 * a batch are merged (HubSpot refuses duplicate ids in a batch), newer state last. When HubSpot refuses a whole batch
 * as invalid, each record is sent alone so only the invalid one fails.
 */
export class HubspotUpserter {
  private readonly batcher: Batcher<UpsertItem, UpsertResult>;

  constructor(
    private readonly client: HubspotClient,
    options: { maxSize?: number; windowMs?: number } = {},
  ) {
    this.batcher = new Batcher(
      { maxSize: options.maxSize ?? HUBSPOT_BATCH_MAX, windowMs: options.windowMs ?? CRM_BATCH_WINDOW_MS },
      (_key, items) => this.flush(items),
    );
  }

  upsert(item: UpsertItem): Promise<UpsertResult> {
    const key = [item.target.destinationId, item.target.config.baseUrl, item.objectType, item.idProperty].join('\n');
    return this.batcher.add(key, item);
  }

  private async flush(items: UpsertItem[]): Promise<UpsertResult[]> {
    const groups = new Map<string, number[]>();
    items.forEach((item, index) => {
      const key = item.id.toLowerCase();
      groups.set(key, [...(groups.get(key) ?? []), index]);
    });
    const results: UpsertResult[] = new Array(items.length);
    await this.send(items, [...groups.values()], results);
    return results;
  }

  /** Sends one batch of groups (each group: the items of one record) and fills `results`. */
  private async send(items: UpsertItem[], groups: number[][], results: UpsertResult[]): Promise<void> {
    const first = items[groups[0][0]];
    const inputs = groups.map((group) => {
      const ordered = [...group].sort((a, b) => items[a].version - items[b].version);
      const properties = Object.assign({}, ...ordered.map((i) => items[i].properties)) as Record<string, string>;
      const id = items[group[0]].id;
      return { idProperty: first.idProperty, id, properties: { ...properties, [first.idProperty]: id } };
    });
    const deadlineAt = Math.min(...groups.flat().map((i) => items[i].deadlineAt));
    try {
      const { json, result } = await this.client.send<UpsertAnswer>(
        first.target,
        { method: 'POST', path: `/crm/v3/objects/${first.objectType}/batch/upsert`, body: { inputs } },
        deadlineAt,
      );
      const detail = { statusCode: result.statusCode, durationMs: result.durationMs };
      inputs.forEach((input, n) => {
        const found =
          json.results?.find((r) => r.properties?.[first.idProperty]?.toLowerCase() === input.id.toLowerCase()) ??
          (json.results?.length === inputs.length && !json.errors?.length ? json.results[n] : undefined);
        const error = found
          ? undefined
          : new HubspotError(
              HubspotErrorCode.Validation,
              `HubSpot ${result.statusCode}: ${errorFor(json, input.id) ?? `no result for ${first.idProperty} ${input.id}`}`,
            );
        for (const index of groups[n]) {
          results[index] = found
            ? { ok: true, crmId: String(found.id), detail: { ...detail, responseBody: JSON.stringify(found) } }
            : { ok: false, error: error!, detail: { ...detail, responseBody: error!.message } };
        }
      });
    } catch (err) {
      if (!(err instanceof HubspotError)) throw err;
      if (err.code === HubspotErrorCode.Validation && groups.length > 1) {
        // One invalid input fails HubSpot's whole batch: send each record alone to find it.
        await Promise.all(groups.map((group) => this.send(items, [group], results)));
        return;
      }
      const detail = {
        statusCode: err.result?.statusCode,
        responseBody: err.result?.body,
        durationMs: err.result?.durationMs ?? 0,
      };
      for (const index of groups.flat()) results[index] = { ok: false, error: err, detail };
    }
  }
}

/** The error of a 207 answer that names this id in its context, else the first error's message. */
function errorFor(answer: UpsertAnswer, id: string): string | undefined {
  const errors = answer.errors ?? [];
  const named = errors.find((e) => Object.values(e.context ?? {}).some((values) => values.includes(id)));
  return (named ?? errors[0])?.message;
}
