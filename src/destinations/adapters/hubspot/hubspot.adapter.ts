import { Injectable } from '@nestjs/common';
import type { CloudEvent } from '../../../canonical/cloud-event';
import { OutboundClient } from '../../../outbound/outbound.client';
import type {
  AdapterOutcome,
  AttemptDetail,
  DeliveryContext,
  DestinationAdapter,
  QuotaReport,
} from '../destination-adapter';
import { CrmLedgerService, payloadHash, stateVersionOf } from '../shared/crm-ledger.service';
import { DestinationMappingError, DestinationMappingService } from '../shared/destination-mapping.service';
import { domainOf, normalizeEmail, normalizePhone, truncateForCrm } from '../shared/identity';
import { HubspotClient, HubspotTarget } from './hubspot.client';
import { HUBSPOT_CONFIG_SPEC, hubspotConfigOf } from './hubspot.config-spec';
import { HubspotError, HubspotErrorCode, outcomeOfHubspotError } from './hubspot.errors';
import { HubspotAssociations } from './hubspot-associations';
import { HubspotObjectKind, hubspotKindOf } from './hubspot-objects';
import { HubspotExternalIdProperty } from './hubspot-properties';
import { HubspotUpserter } from './hubspot-upsert';

/** HubSpot's limit for rich-text bodies (hs_call_body, hs_meeting_body, hs_note_body), in characters. */
export const HUBSPOT_BODY_LIMIT = 65_536;
/** When the daily budget is nearly spent, a non-urgent update waits this long (issue 8: quotas). */
const DAILY_BUDGET_DEFER_MS = 15 * 60_000;

/** Functions the HubSpot mappings may call (bound the same way in the mapping cases spec). */
export const HUBSPOT_MAPPING_BINDINGS = {
  e164: (value: unknown) => normalizePhone(value) ?? (typeof value === 'string' ? value : undefined),
  domainOf: (value: unknown) => domainOf(value),
};

/**
 * HubSpot destination (issue 8, DESIGN §5): contacts and leads upserted by email, companies by domain, calls,
 * meetings and notes by the unique external-id property whose value is the canonical subject; then the activity's
 * associations with HUBSPOT_DEFINED type ids. Per (destination, subject) the ledger keeps the HubSpot id, the
 * newest applied state version (older events are `superseded`) and the payload hash (an equal one is `unchanged`).
 * An upsert on a unique value makes a retry after a lost answer land on the same record.
 */
@Injectable()
export class HubspotAdapter implements DestinationAdapter {
  readonly type = 'hubspot' as const;
  /** High enough for deliveries to pile up into a batch; the token bucket, not this cap, paces HubSpot. */
  readonly maxInFlight = 100;
  readonly configSpec = HUBSPOT_CONFIG_SPEC;
  private readonly client: HubspotClient;
  private readonly upserter: HubspotUpserter;
  private readonly externalId: HubspotExternalIdProperty;
  private readonly associations: HubspotAssociations;

  constructor(
    outbound: OutboundClient,
    private readonly ledger: CrmLedgerService,
    private readonly mappings: DestinationMappingService,
  ) {
    this.client = new HubspotClient(outbound);
    this.upserter = new HubspotUpserter(this.client);
    this.externalId = new HubspotExternalIdProperty(this.client);
    this.associations = new HubspotAssociations(this.client, ledger);
  }

  health(): Record<string, QuotaReport> {
    return this.client.health();
  }

  async deliver({ destination, config, event, deadlineMs }: DeliveryContext): Promise<AdapterOutcome> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    const kind = hubspotKindOf(event);
    if ('skip' in kind) return { outcome: 'unchanged', reason: kind.skip, durationMs: 0 };
    const destinationId = destination.id;
    const version = stateVersionOf(event);
    if (await this.ledger.isStale(destinationId, event.subject, version)) {
      const applied = (await this.ledger.appliedVersion(destinationId, event.subject))?.toISOString();
      return {
        outcome: 'superseded',
        reason: `state ${version.toISOString()} is older than the applied ${applied}`,
        durationMs: elapsed(),
      };
    }
    if (event.type.endsWith('.updated') && this.client.dailyBudgetLow(destinationId)) {
      return {
        outcome: 'retry',
        reason: 'HubSpot daily API budget is 90 % spent: non-urgent update deferred',
        afterMs: DAILY_BUDGET_DEFER_MS,
        durationMs: elapsed(),
      };
    }
    const target: HubspotTarget = { destinationId, config: hubspotConfigOf(config) };
    const deadlineAt = Date.now() + deadlineMs;
    let detail: AttemptDetail = { durationMs: 0 };
    try {
      const properties = await this.properties(kind, event);
      const idProperty = kind.upsertOn === 'external' ? target.config.externalIdProperty : kind.upsertOn;
      const id = kind.upsertOn === 'external' ? event.subject : properties[kind.upsertOn];
      if (!id) {
        throw new HubspotError(
          HubspotErrorCode.MissingField,
          `${event.type} has no ${kind.upsertOn === 'email' ? 'email address' : 'domain'}: HubSpot ${kind.objectType} are upserted by ${kind.upsertOn}`,
        );
      }
      const hash = payloadHash({ objectType: kind.objectType, properties });
      const entry = await this.ledger.get(destinationId, event.subject, kind.ledgerType);
      let crmId = entry?.crmId ?? undefined;
      const write = !crmId || entry?.payloadHash !== hash;
      if (write) {
        if (kind.upsertOn === 'external') await this.externalId.ensure(target, kind.objectType, deadlineAt);
        const result = await this.upserter.upsert({
          target,
          objectType: kind.objectType,
          idProperty,
          id,
          properties,
          version: version.getTime(),
          deadlineAt,
        });
        detail = result.detail;
        if (!result.ok) return outcomeOfHubspotError(result.error, { ...result.detail, durationMs: elapsed() });
        crmId = result.crmId;
        await this.ledger.record(destinationId, event.subject, kind.ledgerType, {
          crmId,
          stateVersion: version,
          payloadHash: hash,
        });
        if (kind.objectType === 'contacts') await this.recordIdentities(destinationId, properties, crmId);
      }

      // Dependency order: the record exists now; associate it. Only this part is redone when only it failed.
      const plan = await this.associations.plan(kind, event, target, deadlineAt);
      const associationHash = payloadHash(plan.targets);
      const associationType = `${kind.ledgerType}:associations`;
      const applied = await this.ledger.get(destinationId, event.subject, associationType);
      const associate = plan.targets.length > 0 && (write || applied?.payloadHash !== associationHash);
      if (associate) {
        await this.associations.write(target, kind.objectType, crmId!, plan.targets, deadlineAt);
        const contacts = plan.targets.filter((t) => t.toType === 'contacts').map((t) => t.toId);
        await this.ledger.record(destinationId, event.subject, associationType, {
          crmId: contacts.join(',') || null,
          payloadHash: associationHash,
        });
      }
      if (!write && !associate) {
        return { outcome: 'unchanged', reason: 'same payload and associations as last applied', durationMs: elapsed() };
      }
      const summary = {
        objectType: kind.objectType,
        id: crmId,
        [idProperty]: id,
        associations: plan.targets.map((t) => `${t.toType}/${t.toId} (${t.typeId})`),
        ...(plan.unmatched.length ? { unmatched: plan.unmatched } : {}),
      };
      return {
        outcome: 'succeeded',
        statusCode: detail.statusCode,
        responseBody: JSON.stringify(summary),
        durationMs: elapsed(),
      };
    } catch (err) {
      if (err instanceof HubspotError) {
        const answer = err.result;
        return outcomeOfHubspotError(err, {
          statusCode: answer?.statusCode ?? detail.statusCode,
          responseBody: answer?.body ?? err.message,
          durationMs: elapsed(),
        });
      }
      if (err instanceof DestinationMappingError)
        return { outcome: 'failed', reason: err.message, durationMs: elapsed() };
      throw err;
    }
  }

  /** The mapping's properties as HubSpot wants them: strings, nothing empty, bodies cut to HubSpot's limit. */
  private async properties(kind: HubspotObjectKind, event: CloudEvent): Promise<Record<string, string>> {
    const mapped = await this.mappings.evaluate<Record<string, unknown>>(
      'hubspot',
      kind.mapping,
      event,
      HUBSPOT_MAPPING_BINDINGS,
    );
    const properties: Record<string, string> = {};
    for (const [name, value] of Object.entries(mapped ?? {})) {
      if (value === undefined || value === null || value === '') continue;
      const text =
        typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value);
      properties[name] = name.endsWith('_body') ? truncateForCrm(text, HUBSPOT_BODY_LIMIT) : text;
    }
    return properties;
  }

  /** A written contact is the match for later participants with its email or phone. */
  private async recordIdentities(destinationId: string, properties: Record<string, string>, crmId: string) {
    const email = normalizeEmail(properties.email);
    const phone = normalizePhone(properties.phone);
    if (email) await this.ledger.record(destinationId, `email:${email}`, 'contact', { crmId });
    if (phone) await this.ledger.record(destinationId, `phone:${phone}`, 'contact', { crmId });
  }
}
