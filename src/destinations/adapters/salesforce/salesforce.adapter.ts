import { Injectable } from '@nestjs/common';
import { OutboundClient } from '../../../outbound/outbound.client';
import type { AdapterOutcome, DeliveryContext, DestinationAdapter } from '../destination-adapter';
import { Batcher, CRM_BATCH_WINDOW_MS } from '../shared/batcher';
import { KeyedSerializer } from '../shared/keyed-serializer';
import { CrmLedgerService, payloadHash, stateVersionOf } from '../shared/crm-ledger.service';
import { DestinationMappingError, DestinationMappingService } from '../shared/destination-mapping.service';
import { SalesforceAssociations } from './salesforce-associations';
import { externalIdOf, fitFields, planFor, SalesforceObjectKind } from './salesforce-objects';
import { DEFER_AT, SalesforceQuota } from './salesforce-quota';
import { COLLECTION_MAX, SalesforceClient, SalesforceSObject, UpsertItem, UpsertResult } from './salesforce.client';
import { SALESFORCE_CONFIG_SPEC, salesforceConfig } from './salesforce.config';
import {
  CREATE_ONLY_FIELDS,
  outcomeOf,
  SalesforceError,
  SalesforceErrorCode,
  throttleDelayMs,
} from './salesforce.errors';

/** Ledger object type of an activity's WhoId/WhatId, kept apart so a retry can send only the links. */
const LINKS_SUFFIX = '#links';
/** How long deliveries due together wait to share one sObject Collections request. */
const BATCH_WINDOW_MS = CRM_BATCH_WINDOW_MS;

interface BatchItem {
  client: SalesforceClient;
  quota: SalesforceQuota;
  sobject: SalesforceSObject;
  item: UpsertItem;
  deadlineMs: number;
}

/** Tunables; the defaults suit a real org, tests shorten them. */
export interface SalesforceAdapterOptions {
  /** Non-urgent writes wait this long while ≥ 90 % of the daily API budget is used. */
  deferMs: number;
  /** REQUEST_LIMIT_EXCEEDED without Retry-After: TotalRequests (daily) vs any other limit. */
  dailyLimitBackoffMs: number;
  otherLimitBackoffMs: number;
  /** A participant no search found is searched again after this long. */
  recheckUnmatchedMs: number;
  /** Attempts that wait for a linked record not written yet (dependency order), and how long each waits at least. */
  dependencyWaits: number;
  dependencyWaitMs: number;
}

/**
 * Salesforce destination (issue 8): upserts by external id (the canonical subject) on Account, Contact, Lead, Task
 * (calls, notes) and Event (meetings), so a replay or a retry after an applied-then-lost write updates the same
 * record. Per delivery: plan → stale check (superseded) → mapping → ledger (unchanged by hash) → associations →
 * quota → one upsert, batched with the other deliveries due for the same destination and object into one sObject
 * Collections request, with one outcome each.
 */
@Injectable()
export class SalesforceAdapter implements DestinationAdapter {
  readonly type = 'salesforce' as const;
  /** Deliveries in flight per destination: enough to fill a 200-record collection. */
  readonly maxInFlight = COLLECTION_MAX;
  readonly configSpec = SALESFORCE_CONFIG_SPEC;
  readonly options: SalesforceAdapterOptions = {
    deferMs: 15 * 60_000,
    dailyLimitBackoffMs: 15 * 60_000,
    otherLimitBackoffMs: 30_000,
    recheckUnmatchedMs: 60 * 60_000,
    dependencyWaits: 1,
    dependencyWaitMs: 2000,
  };
  private readonly quotas = new Map<string, SalesforceQuota>();
  private readonly serializer = new KeyedSerializer();
  private readonly batcher: Batcher<BatchItem, UpsertResult>;
  private readonly associations: SalesforceAssociations;

  constructor(
    private readonly outbound: OutboundClient,
    private readonly ledger: CrmLedgerService,
    private readonly mappings: DestinationMappingService,
  ) {
    this.batcher = new Batcher({ maxSize: COLLECTION_MAX, windowMs: BATCH_WINDOW_MS }, (_key, items) =>
      this.flush(items),
    );
    this.associations = new SalesforceAssociations(ledger, this.options);
  }

  /** Daily API use per destination, from the last Sforce-Limit-Info seen: for /health and metrics. */
  health(): Record<string, { used: number; max: number; deferring: boolean }> {
    const report: Record<string, { used: number; max: number; deferring: boolean }> = {};
    for (const [destinationId, quota] of this.quotas) {
      if (quota.usage) report[destinationId] = { ...quota.usage, deferring: quota.nearlySpent };
    }
    return report;
  }

  /**
   * Deliveries for one (destination, subject) run one at a time in this process: the stale check, the write and
   * the ledger record of one must finish before the next compares versions, or an older state could be written
   * after a newer one that passed its check at the same moment. Different subjects still share batches.
   */
  async deliver(context: DeliveryContext): Promise<AdapterOutcome> {
    const plan = planFor(context.event);
    if (plan.kind === 'skip') return { outcome: 'unchanged', reason: plan.reason, durationMs: 0 };
    const key = `${context.destination.id}|${context.event.subject}`;
    return this.serializer.run(key, () => this.deliverNow(context, plan.object));
  }

  private async deliverNow(
    { delivery, destination, config: raw, event, deadlineMs }: DeliveryContext,
    object: SalesforceObjectKind,
  ): Promise<AdapterOutcome> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    const destinationId = destination.id;
    const subject = event.subject;

    // DESIGN §1: an older state than the one applied is not sent.
    const version = stateVersionOf(event);
    const applied = await this.ledger.appliedVersion(destinationId, subject);
    if (applied && version.getTime() < new Date(applied).getTime()) {
      return {
        outcome: 'superseded',
        reason: `state ${version.toISOString()} is older than the applied ${new Date(applied).toISOString()}`,
        durationMs: elapsed(),
      };
    }

    // Dependency order: a record that links to one not written yet waits once for it (they often arrive together),
    // then goes without the link rather than wait for a record that may never come to this destination.
    if (delivery.attempts <= this.options.dependencyWaits) {
      const missing: string[] = [];
      for (const dependency of object.dependsOn?.(event) ?? []) {
        if (!(await this.ledger.get(destinationId, dependency.subject, dependency.sobject))?.crmId) {
          missing.push(`${dependency.sobject} ${dependency.subject}`);
        }
      }
      if (missing.length) {
        return {
          outcome: 'retry',
          reason: `waiting for ${missing.join(', ')} to be written first (dependency order); a later attempt goes without the link`,
          afterMs: this.options.dependencyWaitMs,
          durationMs: elapsed(),
        };
      }
    }

    let mapped: Record<string, unknown> | undefined;
    try {
      mapped = await this.mappings.evaluate<Record<string, unknown>>('salesforce', object.mapping, event);
    } catch (err) {
      if (!(err instanceof DestinationMappingError)) throw err;
      return { outcome: 'failed', reason: err.message, durationMs: elapsed() };
    }
    const fields = fitFields(mapped && typeof mapped === 'object' && !Array.isArray(mapped) ? mapped : {});
    // Dependency order: the company's Account was written first (or is written later and linked on the next update).
    const company = object.accountOf?.(event);
    const accountId = company && (await this.ledger.get(destinationId, company, 'Account'))?.crmId;
    if (accountId) fields.AccountId = accountId;
    if (!Object.keys(fields).length) {
      return {
        outcome: 'unchanged',
        reason: `${event.type}: nothing for Salesforce in this event (mapping salesforce/${object.mapping} gave no fields)`,
        durationMs: elapsed(),
      };
    }

    const config = salesforceConfig(raw);
    const quota = this.quotaFor(destinationId);
    const client = new SalesforceClient(this.outbound, config, (result) => quota.observe(result.headers));
    const entry = await this.ledger.get(destinationId, subject, object.sobject);
    const exists = !!entry?.crmId;
    const coreHash = payloadHash(fields);
    const coreSame = entry?.payloadHash === coreHash;

    let links: Record<string, string> = {};
    let unmatched: string[] = [];
    let pending: string | undefined;
    let linksSame = true;
    let linkHash: string | undefined;
    if (object.links) {
      const resolved = await this.associations.resolve(destinationId, event, {
        client,
        acquire: () => quota.acquire(Math.min(5000, deadlineMs / 3)),
        deadlineMs,
      });
      links = resolved.fields;
      unmatched = resolved.unmatched;
      pending = resolved.pending;
      linkHash = payloadHash(links);
      linksSame =
        (await this.ledger.get(destinationId, subject, object.sobject + LINKS_SUFFIX))?.payloadHash === linkHash;
    }

    if (coreSame && linksSame) {
      await this.ledger.record(destinationId, subject, object.sobject, { stateVersion: version });
      if (pending) {
        return { outcome: 'retry', reason: `record is up to date; ${pending}`, durationMs: elapsed() };
      }
      return { outcome: 'unchanged', reason: 'same payload as the last applied write', durationMs: elapsed() };
    }
    // Issue 8 quotas: near the daily limit, an update to a record Salesforce already has can wait; new records cannot.
    if (exists && quota.nearlySpent) {
      const usage = quota.usage!;
      return {
        outcome: 'retry',
        reason: `Salesforce daily API use ${usage.used}/${usage.max} is at or above ${DEFER_AT * 100} %: this update waits`,
        afterMs: this.options.deferMs,
        durationMs: elapsed(),
      };
    }

    // Only the links changed (a retry after a failed participant search): send only them.
    let body: Record<string, unknown> = coreSame ? { ...links } : { ...fields, ...links };
    if (!Object.keys(body).length) {
      // An earlier attempt wrote the record and its participant search has now run: nobody matched, nothing to send.
      if (pending) return { outcome: 'retry', reason: `record is up to date; ${pending}`, durationMs: elapsed() };
      await this.ledger.record(destinationId, subject, object.sobject + LINKS_SUFFIX, { payloadHash: linkHash });
      const responseBody = JSON.stringify({ sobject: object.sobject, id: entry?.crmId, unmatched });
      return { outcome: 'succeeded', responseBody, durationMs: elapsed() };
    }
    if (!exists) {
      const defaults = Object.fromEntries(
        Object.entries(object.createDefaults ?? {}).filter(([name]) => body[name] === undefined),
      );
      body = { ...defaults, ...body, ...object.createOnly };
    }
    const result = await this.batcher.add(`${destinationId}|${object.sobject}`, {
      client,
      quota,
      sobject: object.sobject,
      item: { value: externalIdOf(subject), fields: body },
      deadlineMs,
    });
    if (!result.ok) {
      return outcomeOf(
        result.error,
        { statusCode: result.statusCode, responseBody: result.body, durationMs: elapsed() },
        {
          dailyLimitMs: this.options.dailyLimitBackoffMs,
          otherLimitMs: this.options.otherLimitBackoffMs,
        },
      );
    }

    const crmId = result.id ?? entry?.crmId ?? null;
    await this.ledger.record(destinationId, subject, object.sobject, {
      crmId,
      stateVersion: version,
      payloadHash: coreHash,
    });
    if (object.links && !pending) {
      await this.ledger.record(destinationId, subject, object.sobject + LINKS_SUFFIX, { payloadHash: linkHash });
    }
    for (const identity of object.identities?.(event.data) ?? []) {
      await this.ledger.record(destinationId, identity, object.sobject, { crmId });
    }
    const summary = JSON.stringify({
      sobject: object.sobject,
      id: crmId,
      created: result.created,
      ...(object.links ? { ...links, unmatched } : {}),
    });
    if (pending) {
      return {
        outcome: 'retry',
        reason: `${object.sobject} ${crmId} written; its associations wait: ${pending}`,
        statusCode: result.statusCode,
        responseBody: summary,
        durationMs: elapsed(),
      };
    }
    return { outcome: 'succeeded', statusCode: result.statusCode, responseBody: summary, durationMs: elapsed() };
  }

  private quotaFor(destinationId: string): SalesforceQuota {
    let quota = this.quotas.get(destinationId);
    if (!quota) this.quotas.set(destinationId, (quota = new SalesforceQuota()));
    return quota;
  }

  /**
   * Writes one batch: one request per round, a round holding each external id once (Salesforce refuses a
   * collection that names one twice). A record refused for a create-only field already exists (a write applied
   * before a lost answer): it goes again, alone, without that field.
   */
  private async flush(items: BatchItem[]): Promise<UpsertResult[]> {
    const results: UpsertResult[] = new Array(items.length);
    let remaining = items.map((item, index) => ({ item, index }));
    while (remaining.length) {
      const seen = new Set<string>();
      const round = remaining.filter(({ item }) => !seen.has(item.item.value) && !!seen.add(item.item.value));
      remaining = remaining.filter((entry) => !round.includes(entry));
      const answers = await this.send(round.map((r) => r.item));
      round.forEach(({ index }, i) => (results[index] = answers[i]));
    }
    for (let i = 0; i < items.length; i++) {
      const answer = results[i];
      if (answer.ok || answer.error.code !== SalesforceErrorCode.CreateOnlyField) continue;
      const fields = Object.fromEntries(
        Object.entries(items[i].item.fields).filter(([name]) => !CREATE_ONLY_FIELDS.includes(name)),
      );
      results[i] = (await this.send([{ ...items[i], item: { ...items[i].item, fields } }]))[0];
    }
    return results;
  }

  private async send(items: BatchItem[]): Promise<UpsertResult[]> {
    const [{ client, quota, sobject, deadlineMs }] = items;
    if (!(await quota.acquire(Math.min(5000, deadlineMs / 3)))) {
      const error: SalesforceError = {
        code: SalesforceErrorCode.RequestLimit,
        message: 'Switchboard is pacing requests to this org (daily budget spent or a limit answer)',
        retryAfterMs: this.options.otherLimitBackoffMs,
      };
      return items.map(() => ({ ok: false, error }));
    }
    const answers =
      items.length === 1
        ? [await client.upsert(sobject, items[0].item, deadlineMs)]
        : await client.upsertCollection(
            sobject,
            items.map((i) => i.item),
            deadlineMs,
          );
    const limited = answers.find((a) => !a.ok && a.error.code === SalesforceErrorCode.RequestLimit);
    if (limited && !limited.ok) {
      quota.pause(
        throttleDelayMs(limited.error, {
          dailyLimitMs: this.options.dailyLimitBackoffMs,
          otherLimitMs: this.options.otherLimitBackoffMs,
        }),
      );
    }
    return answers;
  }
}
