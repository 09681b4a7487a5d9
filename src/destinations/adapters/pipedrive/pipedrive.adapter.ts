import type { QuotaReport } from '../destination-adapter';
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { CloudEvent } from '../../../canonical/cloud-event';
import { OutboundClient } from '../../../outbound/outbound.client';
import { AdapterOutcome, DeliveryContext, DestinationAdapter } from '../destination-adapter';
import { KeyedSerializer } from '../shared/keyed-serializer';
import { CrmLedgerService, payloadHash, stateVersionOf } from '../shared/crm-ledger.service';
import { DestinationMappingError, DestinationMappingService } from '../shared/destination-mapping.service';
import { associationBody, lookupActivity, pipedriveDuration, resolveParticipants } from './pipedrive-activities';
import { PipedriveClaims } from './pipedrive-claims';
import { lookupNote } from './pipedrive-notes';
import { lookupOrganization } from './pipedrive-organizations';
import { identityKeys, lookupPerson } from './pipedrive-persons';
import { PipedriveContext, RecordSpec, writeRecord, WriteResult } from './pipedrive-records';
import { htmlBody, markerFor } from './pipedrive-text';
import { Deadline, PipedriveClient } from './pipedrive.client';
import { PIPEDRIVE_CONFIG_SPEC } from './pipedrive.config';
import { isRetryable, PipedriveError } from './pipedrive.errors';

const CRM = 'pipedrive';
/** How long to wait when another worker is mid-create for the same subject, or a dependency is not written yet. */
const BUSY_RETRY_MS = 2000;
const ACTIVITY_KINDS = new Set(['call', 'meeting']);

type Route = { kind: 'person' | 'organization' | 'activity' | 'note' } | { kind: 'unchanged'; reason: string };

/** Which Pipedrive object a canonical event becomes; deletes and types with no Pipedrive object say why not. */
export function routeOf(event: CloudEvent): Route {
  const [entity, action] = event.type.split('.');
  if (action === 'deleted') {
    return { kind: 'unchanged', reason: `${event.type}: Switchboard does not delete Pipedrive records` };
  }
  switch (entity) {
    case 'contact':
    case 'lead':
      return { kind: 'person' };
    case 'company':
      return { kind: 'organization' };
    case 'note':
      return { kind: 'note' };
    case 'activity': {
      if (action === 'transcript_segment') {
        // One segment at a time would rewrite the whole note per line; activity.completed carries the transcript.
        return { kind: 'unchanged', reason: 'transcript segments are written with the completed call, not one by one' };
      }
      const kind = String(event.data.kind ?? '');
      if (!ACTIVITY_KINDS.has(kind)) {
        return {
          kind: 'unchanged',
          reason: `activity kind "${kind}" has no Pipedrive activity mapping (call, meeting)`,
        };
      }
      return { kind: 'activity' };
    }
    default:
      return { kind: 'unchanged', reason: `${event.type} has no Pipedrive object` };
  }
}

/**
 * Pipedrive destinations (issue 8): persons from contacts and leads, organizations from companies, call and
 * meeting activities with their participants, and notes. Pipedrive has no upsert, so the CRM ledger decides
 * between create and update, a pending claim guards every create, and after an ambiguous failure the record is
 * looked up by its markers before it is created again (pipedrive-records.ts).
 */
@Injectable()
export class PipedriveAdapter implements DestinationAdapter {
  readonly type = 'pipedrive' as const;
  readonly configSpec = PIPEDRIVE_CONFIG_SPEC;
  private readonly client: PipedriveClient;
  private readonly claims: PipedriveClaims;
  /** Attempts on one (destination, subject) in this process run one after another: check-then-write stays whole. */
  private readonly serializer = new KeyedSerializer();

  constructor(
    outbound: OutboundClient,
    dataSource: DataSource,
    private readonly ledger: CrmLedgerService,
    private readonly mappings: DestinationMappingService,
  ) {
    this.client = new PipedriveClient(outbound);
    this.claims = new PipedriveClaims(dataSource);
  }

  health(): Record<string, QuotaReport> {
    return this.client.health();
  }

  async deliver({ destination, config, event, deadlineMs }: DeliveryContext): Promise<AdapterOutcome> {
    const started = Date.now();
    const route = routeOf(event);
    if (route.kind === 'unchanged') return { outcome: 'unchanged', reason: route.reason, durationMs: 0 };
    const ctx: PipedriveContext = {
      settings: { destinationId: destination.id, baseUrl: String(config.baseUrl), token: String(config.token) },
      deadline: new Deadline(deadlineMs),
      client: this.client,
      ledger: this.ledger,
      claims: this.claims,
    };
    return this.serializer.run(`${destination.id}\n${event.subject}`, async () => {
      const version = stateVersionOf(event);
      if (await this.ledger.isStale(destination.id, event.subject, version)) {
        return {
          outcome: 'superseded',
          reason: `${event.subject} already has a newer state in Pipedrive than ${version.toISOString()}`,
          durationMs: Date.now() - started,
        };
      }
      try {
        switch (route.kind) {
          case 'person':
            return await this.person(ctx, event, version, deadlineMs);
          case 'organization':
            return await this.organization(ctx, event, version, deadlineMs);
          case 'activity':
            return await this.activity(ctx, event, version, deadlineMs);
          case 'note':
            return await this.note(ctx, event, version, deadlineMs);
        }
      } catch (err) {
        if (err instanceof DestinationMappingError) {
          return { outcome: 'failed', reason: err.message, durationMs: Date.now() - started };
        }
        throw err;
      }
    });
  }

  private async person(ctx: PipedriveContext, event: CloudEvent, version: Date, attemptMs: number) {
    const body = await this.map<{ name?: string; emails?: { value: string }[]; phones?: { value: string }[] }>(
      'person',
      event,
    );
    const missing: string[] = [];
    const companyId = event.data.companyId;
    const withOrg: Record<string, unknown> = { ...body };
    if (typeof companyId === 'string') {
      const company = await this.ledger.get(
        ctx.settings.destinationId,
        `company:${event.connector}:${companyId}`,
        'organization',
      );
      if (company?.crmId) withOrg.org_id = Number(company.crmId);
      else missing.push(`organization company:${event.connector}:${companyId} (not written to Pipedrive yet)`);
    }
    const spec: RecordSpec = {
      subject: event.subject,
      objectType: 'person',
      createPath: '/api/v2/persons',
      updatePath: (id) => `/api/v2/persons/${id}`,
      updateMethod: 'PATCH',
      createBody: withOrg,
      updateBody: withOrg,
      hash: payloadHash(withOrg),
      version,
      lookup: (since) => lookupPerson(ctx, body, since),
      lookupFirst: true,
    };
    const result = await writeRecord(ctx, spec, attemptMs);
    const id = result.kind === 'written' || result.kind === 'unchanged' ? result.id : undefined;
    // Participants of later calls and meetings are matched by these, in the ledger first.
    if (id) {
      for (const key of identityKeys(body)) {
        await this.ledger.record(ctx.settings.destinationId, key, 'person', { crmId: id });
      }
    }
    return this.outcome(result, 'person', { unmatched: missing });
  }

  private async organization(ctx: PipedriveContext, event: CloudEvent, version: Date, attemptMs: number) {
    const body = await this.map<{ name?: string }>('organization', event);
    const result = await writeRecord(
      ctx,
      {
        subject: event.subject,
        objectType: 'organization',
        createPath: '/api/v2/organizations',
        updatePath: (id) => `/api/v2/organizations/${id}`,
        updateMethod: 'PATCH',
        createBody: body,
        updateBody: body,
        hash: payloadHash(body),
        version,
        lookup: () => lookupOrganization(ctx, body.name),
        lookupFirst: true,
      },
      attemptMs,
    );
    return this.outcome(result, 'organization');
  }

  private async activity(ctx: PipedriveContext, event: CloudEvent, version: Date, attemptMs: number) {
    const started = Date.now();
    const mapped = await this.map<{
      subject?: string;
      type: string;
      due_date?: string;
      due_time?: string;
      durationSeconds?: number;
      done?: boolean;
      noteText?: string;
    }>('activity', event);
    const { noteText, durationSeconds, ...fields } = mapped;
    const base: Record<string, unknown> = { ...fields };
    if (durationSeconds) base.duration = pipedriveDuration(durationSeconds);
    if (noteText !== undefined) base.note = htmlBody(noteText, event.subject);
    const destinationId = ctx.settings.destinationId;
    const people = await resolveParticipants(ctx, event);
    const associations = people.error ? undefined : associationBody(people.personIds);
    const associationHash = associations && payloadHash(associations);
    const baseHash = payloadHash(base);
    const entry = await this.ledger.get(destinationId, event.subject, 'activity');
    const linked = await this.ledger.get(destinationId, event.subject, 'activity.participants');
    const detail = { unmatched: people.unmatched };

    if (entry?.crmId && entry.payloadHash === baseHash) {
      if (!associations) return this.associationRetry(people.error!, started);
      if (linked?.payloadHash === associationHash) {
        return { outcome: 'unchanged' as const, reason: 'same payload as the last one applied', durationMs: 0 };
      }
      // Only the associations changed (or failed last time): send only them.
      const answer = await ctx.client.call<{ id: number }>(
        ctx.settings,
        { method: 'PATCH', path: `/api/v2/activities/${entry.crmId}`, body: associations },
        ctx.deadline,
      );
      if (!answer.ok) return this.errorOutcome(answer);
      await this.recordAssociations(destinationId, event.subject, people.personIds, associationHash!);
      return this.outcome(
        { kind: 'written', id: entry.crmId, created: false, adopted: false, ...answer },
        'activity (associations only)',
        detail,
      );
    }

    // Pipedrive needs a subject and a date on create; later partial events leave them as they are.
    const start = new Date(event.time).toISOString();
    const createBody = {
      subject: `${event.data.kind === 'meeting' ? 'Meeting' : 'Call'} (${event.connector} ${String(event.data.id)})`,
      due_date: start.slice(0, 10),
      due_time: start.slice(11, 16),
      note: htmlBody(undefined, event.subject),
      ...base,
      ...associations,
    };
    const marker = markerFor(event.subject);
    const result = await writeRecord(
      ctx,
      {
        subject: event.subject,
        objectType: 'activity',
        createPath: '/api/v2/activities',
        updatePath: (id) => `/api/v2/activities/${id}`,
        updateMethod: 'PATCH',
        createBody,
        updateBody: { ...base, ...associations },
        hash: baseHash,
        version,
        lookup: (since) => lookupActivity(ctx, marker, people.personIds[0], since ?? new Date(0)),
        lookupFirst: false,
      },
      attemptMs,
    );
    if (result.kind !== 'written') return this.outcome(result, 'activity', detail);
    if (!associations) return this.associationRetry(people.error!, started);
    await this.recordAssociations(destinationId, event.subject, people.personIds, associationHash!);
    return this.outcome(result, 'activity', detail);
  }

  private async note(ctx: PipedriveContext, event: CloudEvent, version: Date, attemptMs: number) {
    const started = Date.now();
    const { noteText } = await this.map<{ noteText?: string }>('note', event);
    const destinationId = ctx.settings.destinationId;
    const activityId = event.data.activityId;
    const activitySubject = `activity:${event.connector}:${String(activityId)}`;
    const activity =
      typeof activityId === 'string' ? await this.ledger.get(destinationId, activitySubject, 'activity') : undefined;
    if (!activity?.crmId) {
      // Dependency order: the note's activity (and through it its person) is written first.
      return {
        outcome: 'retry' as const,
        reason: `waiting for ${activitySubject} to be written to Pipedrive: a note hangs off its person`,
        afterMs: BUSY_RETRY_MS,
        durationMs: Date.now() - started,
      };
    }
    const linked = await this.ledger.get(destinationId, activitySubject, 'activity.participants');
    if (!linked?.crmId) {
      return {
        outcome: 'failed' as const,
        reason: `Pipedrive notes belong to a person, organization, deal or lead; ${activitySubject} matched no person`,
        durationMs: Date.now() - started,
      };
    }
    const personId = Number(linked.crmId);
    const content = htmlBody(noteText, event.subject);
    const marker = markerFor(event.subject);
    const result = await writeRecord(
      ctx,
      {
        subject: event.subject,
        objectType: 'note',
        createPath: '/api/v1/notes',
        updatePath: (id) => `/api/v1/notes/${id}`,
        updateMethod: 'PUT',
        createBody: { content, person_id: personId },
        updateBody: { content, person_id: personId },
        hash: payloadHash({ content, personId }),
        version,
        lookup: (since) => lookupNote(ctx, marker, personId, since ?? new Date(0)),
        lookupFirst: false,
      },
      attemptMs,
    );
    return this.outcome(result, 'note');
  }

  private async recordAssociations(destinationId: string, subject: string, personIds: number[], hash: string) {
    // crmId here is the primary person: notes about this activity are attached to them.
    await this.ledger.record(destinationId, subject, 'activity.participants', {
      crmId: personIds.length ? String(personIds[0]) : null,
      payloadHash: hash,
    });
  }

  private associationRetry(error: PipedriveError, started: number): AdapterOutcome {
    return {
      outcome: 'retry',
      reason: `activity written; matching its participants failed (${error.message}): only the associations are retried`,
      afterMs: error.afterMs,
      statusCode: error.statusCode,
      responseBody: error.body,
      durationMs: Date.now() - started,
    };
  }

  private outcome(result: WriteResult, what: string, extra: { unmatched?: string[] } = {}): AdapterOutcome {
    switch (result.kind) {
      case 'unchanged':
        return {
          outcome: 'unchanged',
          reason: `same ${what} payload as the last one applied (id ${result.id})`,
          durationMs: 0,
        };
      case 'busy':
        return { outcome: 'retry', reason: result.reason, afterMs: BUSY_RETRY_MS, durationMs: 0 };
      case 'error':
        return this.errorOutcome(result.error);
      case 'written': {
        const summary = {
          [what]: result.id,
          action: result.created ? 'created' : result.adopted ? 'matched existing and updated' : 'updated',
          ...(extra.unmatched?.length ? { unmatched: extra.unmatched } : {}),
        };
        return {
          outcome: 'succeeded',
          statusCode: result.statusCode,
          responseBody: JSON.stringify(summary),
          durationMs: result.durationMs,
        };
      }
    }
  }

  private errorOutcome(error: PipedriveError): AdapterOutcome {
    const detail = { statusCode: error.statusCode, responseBody: error.body, durationMs: error.durationMs };
    if (isRetryable(error.code)) return { outcome: 'retry', reason: error.message, afterMs: error.afterMs, ...detail };
    return { outcome: 'failed', reason: error.message, ...detail };
  }

  private async map<T>(name: string, event: CloudEvent): Promise<T> {
    const mapped = await this.mappings.evaluate<T>(CRM, name, event);
    if (!mapped)
      throw new DestinationMappingError(`Destination mapping ${CRM}/${name} produced nothing for ${event.type}`);
    return mapped;
  }
}
