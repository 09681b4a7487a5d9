import { CrmLedgerService } from '../shared/crm-ledger.service';
import { PipedriveClaims } from './pipedrive-claims';
import { Deadline, PipedriveAnswer, PipedriveClient, PipedriveSettings } from './pipedrive.client';
import { isAmbiguous, PipedriveError, PipedriveErrorCode } from './pipedrive.errors';

/** What every object kind needs to talk to Pipedrive and the ledger within one attempt. */
export interface PipedriveContext {
  settings: PipedriveSettings;
  deadline: Deadline;
  client: PipedriveClient;
  ledger: CrmLedgerService;
  claims: PipedriveClaims;
}

export type Lookup = { ok: true; id?: number } | { ok: false; error: PipedriveError };

export interface RecordSpec {
  subject: string;
  /** Ledger object type: person, organization, activity, note. */
  objectType: string;
  createPath: string;
  updatePath: (id: string) => string;
  updateMethod: 'PATCH' | 'PUT';
  createBody: Record<string, unknown>;
  updateBody: Record<string, unknown>;
  hash: string;
  version?: Date;
  /** Finds the record this subject may already have in Pipedrive, by its markers (`since`: when a create was sent). */
  lookup(since?: Date): Promise<Lookup>;
  /** Look before the first create too (persons by email/phone, organizations by name): match, don't duplicate. */
  lookupFirst: boolean;
}

export type WriteResult =
  | { kind: 'written'; id: string; created: boolean; adopted: boolean; statusCode: number; durationMs: number }
  | { kind: 'unchanged'; id: string }
  | { kind: 'error'; error: PipedriveError }
  /** Another worker sent a create for this subject moments ago and has not finished: try again shortly. */
  | { kind: 'busy'; reason: string };

/** A claim younger than this may belong to a live attempt in another worker. */
const LIVE_CLAIM_MARGIN_MS = 10_000;

/**
 * Create-or-update through the id ledger, since Pipedrive has no upsert (issue 8):
 * - known CRM id: PATCH (or `unchanged` when the payload hash equals the last applied one); a 404 (deleted in
 *   Pipedrive) forgets the id and creates the record again;
 * - a pending claim (a create was sent, its answer lost): look the record up by its markers, adopt it if found,
 *   otherwise take the claim over and create;
 * - nothing: (persons, organizations: look up first, to match rather than duplicate) claim, then create.
 * A create that ended ambiguously (timeout, dropped connection, 5xx) keeps its claim for the next attempt; one that
 * certainly did not apply (4xx, 429) releases it.
 */
export async function writeRecord(ctx: PipedriveContext, spec: RecordSpec, attemptMs: number): Promise<WriteResult> {
  const { ledger, claims, settings } = ctx;
  const destinationId = settings.destinationId;
  const entry = await ledger.get(destinationId, spec.subject, spec.objectType);
  let token: string | undefined;
  if (entry?.crmId) {
    if (entry.payloadHash === spec.hash) return { kind: 'unchanged', id: entry.crmId };
    const updated = await update(ctx, spec, entry.crmId, false);
    if (updated.kind !== 'error' || updated.error.code !== PipedriveErrorCode.NotFound) return updated;
    // Deleted in Pipedrive since: the source still has it, so it is created again (and the ledger follows).
    token = await claims.forget(destinationId, spec.subject, spec.objectType, entry.crmId);
  } else if (entry) {
    const pending = PipedriveClaims.parse(entry.payloadHash);
    if (pending && !pending.mine && Date.now() - pending.since.getTime() < attemptMs + LIVE_CLAIM_MARGIN_MS) {
      return {
        kind: 'busy',
        reason: `another worker is creating the Pipedrive ${spec.objectType} for ${spec.subject}`,
      };
    }
    const found = await spec.lookup(pending?.since ?? new Date(0));
    if (!found.ok) return { kind: 'error', error: found.error };
    if (found.id !== undefined) return update(ctx, spec, String(found.id), true);
    token = await claims.reclaim(destinationId, spec.subject, spec.objectType, entry.payloadHash);
  } else {
    if (spec.lookupFirst) {
      const found = await spec.lookup();
      if (!found.ok) return { kind: 'error', error: found.error };
      if (found.id !== undefined) return update(ctx, spec, String(found.id), true);
    }
    token = await claims.claim(destinationId, spec.subject, spec.objectType);
  }
  if (!token)
    return { kind: 'busy', reason: `the Pipedrive ${spec.objectType} for ${spec.subject} was claimed meanwhile` };

  const answer = await ctx.client.call<{ id: number }>(
    settings,
    { method: 'POST', path: spec.createPath, body: spec.createBody },
    ctx.deadline,
  );
  if (!answer.ok) {
    if (!isAmbiguous(answer.code)) await claims.release(destinationId, spec.subject, spec.objectType, token);
    return { kind: 'error', error: answer };
  }
  return recorded(ctx, spec, answer, true, false);
}

async function update(ctx: PipedriveContext, spec: RecordSpec, id: string, adopted: boolean): Promise<WriteResult> {
  const answer = await ctx.client.call<{ id: number }>(
    ctx.settings,
    { method: spec.updateMethod, path: spec.updatePath(id), body: spec.updateBody },
    ctx.deadline,
  );
  if (!answer.ok) return { kind: 'error', error: answer };
  return recorded(ctx, spec, answer, false, adopted, id);
}

async function recorded(
  ctx: PipedriveContext,
  spec: RecordSpec,
  answer: Extract<PipedriveAnswer<{ id: number }>, { ok: true }>,
  created: boolean,
  adopted: boolean,
  knownId?: string,
): Promise<WriteResult> {
  const id = String(answer.data?.id ?? knownId);
  await ctx.ledger.record(ctx.settings.destinationId, spec.subject, spec.objectType, {
    crmId: id,
    stateVersion: spec.version ?? null,
    payloadHash: spec.hash,
  });
  return { kind: 'written', id, created, adopted, statusCode: answer.statusCode, durationMs: answer.durationMs };
}

/** RFC 3339 without milliseconds, as Pipedrive's `updated_since` wants; a minute early for clock skew. */
export function updatedSince(since: Date): string {
  return new Date(since.getTime() - 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
