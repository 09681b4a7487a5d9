import { createHash } from 'node:crypto';
import type { CloudEvent } from '../../../canonical/cloud-event';
import { normalizeEmail, normalizePhone, truncateForCrm } from '../shared/identity';
import type { SalesforceSObject } from './salesforce.client';

/** Salesforce long text areas (Task and Event Description) hold 32 000 characters (issue 8: long text). */
export const DESCRIPTION_LIMIT = 32_000;
/** Subject, names and other text fields hold 255. */
const TEXT_LIMIT = 255;
/** A Salesforce external id text field holds 255 characters; a longer subject is hashed. */
const EXTERNAL_ID_LIMIT = 255;

/** How one canonical entity becomes one Salesforce object. */
export interface SalesforceObjectKind {
  sobject: SalesforceSObject;
  /** mappings/destinations/salesforce/<mapping>.jsonata: canonical event → the object's fields. */
  mapping: string;
  /** Sent only when the record is new: Salesforce refuses TaskSubtype on update. */
  createOnly?: Record<string, string>;
  /** Required on create; sent only when the record is new and the event did not carry them. */
  createDefaults?: Record<string, string>;
  /** Activities carry WhoId (Contact or Lead) and WhatId (Account). */
  links?: boolean;
  /** The ledger subject of the company whose Account this record belongs to (sent as AccountId once written). */
  accountOf?(event: CloudEvent): string | undefined;
  /** Records this one links to, written first (issue 8: dependency order): company → contact or lead → activity. */
  dependsOn?(event: CloudEvent): { subject: string; sobject: SalesforceSObject }[];
  /** Ledger subjects (`email:…`, `phone:…`) under which this record matches activity participants. */
  identities?(data: Record<string, unknown>): string[];
}

/** Salesforce's own placeholder for a required value the source did not give (Web-to-Lead uses it for Company). */
const NOT_PROVIDED = '[not provided]';

export const ACCOUNT: SalesforceObjectKind = {
  sobject: 'Account',
  mapping: 'account',
  createDefaults: { Name: NOT_PROVIDED },
};

export const CONTACT: SalesforceObjectKind = {
  sobject: 'Contact',
  mapping: 'contact',
  createDefaults: { LastName: NOT_PROVIDED },
  accountOf: (event) =>
    typeof event.data?.companyId === 'string' ? `company:${event.connector}:${event.data.companyId}` : undefined,
  dependsOn: (event) =>
    typeof event.data?.companyId === 'string'
      ? [{ subject: `company:${event.connector}:${event.data.companyId}`, sobject: 'Account' }]
      : [],
  identities: (data) =>
    [
      ...asArray<{ address?: unknown }>(data.emails).map((e) => normalizeEmail(e?.address)),
      ...asArray<{ number?: unknown }>(data.phones).map((p) => normalizePhone(p?.number)),
    ]
      .filter((v): v is string => !!v)
      .map((v) => (v.startsWith('+') ? `phone:${v}` : `email:${v}`)),
};

export const LEAD: SalesforceObjectKind = {
  sobject: 'Lead',
  mapping: 'lead',
  createDefaults: { LastName: NOT_PROVIDED, Company: NOT_PROVIDED },
  identities: (data) =>
    [
      normalizeEmail(data.email) && `email:${normalizeEmail(data.email)}`,
      normalizePhone(data.phone) && `phone:${normalizePhone(data.phone)}`,
    ].filter((v): v is string => !!v),
};

/** Calls are Tasks with TaskSubtype Call (create only), CallType and CallDurationInSeconds. */
export const CALL_TASK: SalesforceObjectKind = {
  sobject: 'Task',
  mapping: 'task',
  createOnly: { TaskSubtype: 'Call' },
  links: true,
  dependsOn: linkedRecords,
};

/** Meetings are Events with StartDateTime and EndDateTime. */
export const MEETING_EVENT: SalesforceObjectKind = {
  sobject: 'Event',
  mapping: 'event',
  links: true,
  dependsOn: linkedRecords,
};

/**
 * Notes become completed Tasks: Salesforce's Note and ContentNote take no custom fields, so no external id to upsert
 * on. They are not linked to the activity's contact (that link lives on the activity's own Task or Event).
 */
export const NOTE_TASK: SalesforceObjectKind = {
  sobject: 'Task',
  mapping: 'note',
  createOnly: { TaskSubtype: 'Task' },
};

export type SalesforcePlan = { kind: 'write'; object: SalesforceObjectKind } | { kind: 'skip'; reason: string };

/** Which Salesforce object a canonical event writes, or why it writes none (never a silent success). */
export function planFor(event: CloudEvent): SalesforcePlan {
  const [entity, action] = event.type.split('.');
  if (action === 'deleted') {
    return { kind: 'skip', reason: `${event.type}: deletes are not sent to Salesforce; the record stays there` };
  }
  switch (entity) {
    case 'company':
      return { kind: 'write', object: ACCOUNT };
    case 'contact':
      return { kind: 'write', object: CONTACT };
    case 'lead':
      return { kind: 'write', object: LEAD };
    case 'note':
      return { kind: 'write', object: NOTE_TASK };
    case 'activity': {
      if (action === 'transcript_segment') {
        return {
          kind: 'skip',
          reason: 'activity.transcript_segment: the call gets its whole transcript on activity.completed',
        };
      }
      const kind = event.data?.kind;
      if (kind === 'call') return { kind: 'write', object: CALL_TASK };
      // A recording (Sales Ask) is a recorded meeting, as in HubSpot: its notes and transcript go into the Event.
      if (kind === 'meeting' || kind === 'recording') return { kind: 'write', object: MEETING_EVENT };
      return { kind: 'skip', reason: `${event.type}: no Salesforce object for activity kind "${String(kind)}"` };
    }
    default:
      return { kind: 'skip', reason: `${event.type}: no Salesforce object for this event type` };
  }
}

/** The record's external id: the canonical subject, hashed when longer than the field holds. */
export function externalIdOf(subject: string): string {
  if (subject.length <= EXTERNAL_ID_LIMIT) return subject;
  return `sha256:${createHash('sha256').update(subject).digest('hex')}`;
}

/** Cuts text fields to what Salesforce holds: Description to 32 000 with a note, other strings to 255. */
export function fitFields(fields: Record<string, unknown>): Record<string, unknown> {
  const fitted: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(fields)) {
    if (value === null || value === undefined) continue;
    if (typeof value !== 'string') fitted[name] = value;
    else if (name === 'Description') fitted[name] = truncateForCrm(value, DESCRIPTION_LIMIT);
    else fitted[name] = value.length > TEXT_LIMIT ? value.slice(0, TEXT_LIMIT) : value;
  }
  return fitted;
}

/** An activity's explicit links: the vendor's own ids of its contacts, lead and companies. */
function linkedRecords(event: CloudEvent): { subject: string; sobject: SalesforceSObject }[] {
  const links = (event.data?.links ?? {}) as { contactIds?: unknown; companyIds?: unknown; leadId?: unknown };
  const of = (entity: string, sobject: SalesforceSObject) => (id: unknown) => ({
    subject: `${entity}:${event.connector}:${String(id)}`,
    sobject,
  });
  return [
    ...asArray(links.contactIds).map(of('contact', 'Contact')),
    ...(typeof links.leadId === 'string' ? [of('lead', 'Lead')(links.leadId)] : []),
    ...asArray(links.companyIds).map(of('company', 'Account')),
  ];
}

function asArray<T>(value: unknown): T[] {
  return Array.isArray(value) ? (value as T[]) : [];
}
