import type { CloudEvent } from '../../../canonical/cloud-event';
import { CrmLedgerService } from '../shared/crm-ledger.service';
import { normalizeEmail, normalizePhone } from '../shared/identity';
import { HubspotClient, HubspotTarget } from './hubspot.client';
import { HubspotError, HubspotErrorCode } from './hubspot.errors';
import type { HubspotObjectKind, HubspotObjectType } from './hubspot-objects';

export interface AssociationTarget {
  toType: 'contacts' | 'companies';
  toId: string;
  typeId: number;
}

export interface AssociationPlan {
  targets: AssociationTarget[];
  /** Participants and links with no HubSpot record: recorded in the attempt log, not an error (issue 8). */
  unmatched: string[];
}

/** HubSpot search allows 5 filter groups (OR'ed) per request: one search covers up to 5 participant identities. */
const SEARCH_MAX_IDENTITIES = 5;

/**
 * Which HubSpot records an activity, note or contact is associated with, and the association writes (issue 8:
 * dependency order and participant matching). Targets come from the ledger first: linked canonical contacts, leads
 * and companies, and participants by email and E.164 phone (`email:` / `phone:` subjects). Participants still unknown
 * are looked up with one CRM search; what is found is added to the ledger, what is not is reported as unmatched.
 */
export class HubspotAssociations {
  constructor(
    private readonly client: HubspotClient,
    private readonly ledger: CrmLedgerService,
  ) {}

  async plan(kind: HubspotObjectKind, event: CloudEvent, target: HubspotTarget, deadlineAt: number) {
    const plan: AssociationPlan = { targets: [], unmatched: [] };
    const destinationId = target.destinationId;
    const connector = event.connector ?? String(event.subject).split(':')[1];
    const data = event.data as Record<string, unknown>;
    const add = (toType: AssociationTarget['toType'], toId: string | null | undefined, label: string) => {
      const typeId = kind.associations[toType];
      if (!typeId) return;
      if (!toId) plan.unmatched.push(label);
      else if (!plan.targets.some((t) => t.toType === toType && t.toId === toId)) {
        plan.targets.push({ toType, toId, typeId });
      }
    };
    const fromLedger = async (subject: string, objectType: string) =>
      (await this.ledger.get(destinationId, subject, objectType))?.crmId;

    if (kind.objectType === 'contacts') {
      const companyId = data.companyId;
      if (typeof companyId === 'string') {
        add('companies', await fromLedger(`company:${connector}:${companyId}`, 'company'), `company ${companyId}`);
      }
      return plan;
    }
    if (kind.objectType === 'notes') {
      // A note is about an activity: it goes to the contacts that activity was associated with.
      const activityId = data.activityId;
      if (typeof activityId === 'string') {
        const subject = `activity:${connector}:${activityId}`;
        const contacts =
          (await fromLedger(subject, 'call:associations')) ?? (await fromLedger(subject, 'meeting:associations')) ?? '';
        for (const id of contacts.split(',').filter(Boolean)) add('contacts', id, `contact ${id}`);
        if (!contacts) plan.unmatched.push(`activity ${activityId} has no associated contacts yet`);
      }
      return plan;
    }

    const links = (data.links ?? {}) as { contactIds?: string[]; companyIds?: string[]; leadId?: string };
    for (const id of links.contactIds ?? []) {
      add('contacts', await fromLedger(`contact:${connector}:${id}`, 'contact'), `contact ${id}`);
    }
    if (links.leadId)
      add('contacts', await fromLedger(`lead:${connector}:${links.leadId}`, 'contact'), `lead ${links.leadId}`);
    for (const id of links.companyIds ?? []) {
      add('companies', await fromLedger(`company:${connector}:${id}`, 'company'), `company ${id}`);
    }

    const identities = participantIdentities(data.participants);
    const unknown: string[] = [];
    for (const identity of identities) {
      const crmId = await fromLedger(identity, 'contact');
      if (crmId) add('contacts', crmId, identity);
      else unknown.push(identity);
    }
    if (unknown.length) {
      const found = await this.search(target, unknown.slice(0, SEARCH_MAX_IDENTITIES), deadlineAt);
      for (const identity of unknown) {
        const crmId = found.get(identity);
        if (crmId) await this.ledger.record(destinationId, identity, 'contact', { crmId });
        add('contacts', crmId, identity);
      }
    }
    return plan;
  }

  /** One `POST /crm/v3/objects/contacts/search`, OR over the identities; returns identity → contact id. */
  private async search(target: HubspotTarget, identities: string[], deadlineAt: number) {
    const filterGroups = identities.map((identity) => {
      const [kind, value] = [identity.slice(0, identity.indexOf(':')), identity.slice(identity.indexOf(':') + 1)];
      return { filters: [{ propertyName: kind === 'email' ? 'email' : 'phone', operator: 'EQ', value }] };
    });
    const { json } = await this.client.send<{ results?: { id: string; properties?: Record<string, string | null> }[] }>(
      target,
      {
        method: 'POST',
        path: '/crm/v3/objects/contacts/search',
        body: { filterGroups, properties: ['email', 'phone', 'mobilephone'], limit: 100 },
      },
      deadlineAt,
    );
    const found = new Map<string, string>();
    for (const record of json.results ?? []) {
      const email = normalizeEmail(record.properties?.email);
      if (email) found.set(`email:${email}`, record.id);
      for (const phone of [record.properties?.phone, record.properties?.mobilephone]) {
        const e164 = normalizePhone(phone);
        if (e164 && !found.has(`phone:${e164}`)) found.set(`phone:${e164}`, record.id);
      }
    }
    return found;
  }

  /**
   * `POST /crm/v4/associations/{from}/{to}/batch/create` per target type, with the HUBSPOT_DEFINED type ids. Creating
   * an association that exists is a no-op at HubSpot, so a retry after a lost answer is safe.
   */
  async write(
    target: HubspotTarget,
    fromType: HubspotObjectType,
    fromId: string,
    targets: AssociationTarget[],
    deadlineAt: number,
  ): Promise<void> {
    for (const toType of ['contacts', 'companies'] as const) {
      const inputs = targets
        .filter((t) => t.toType === toType)
        .map((t) => ({
          from: { id: fromId },
          to: { id: t.toId },
          types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: t.typeId }],
        }));
      if (!inputs.length) continue;
      const { json, result } = await this.client.send<{ errors?: { message?: string }[] }>(
        target,
        { method: 'POST', path: `/crm/v4/associations/${fromType}/${toType}/batch/create`, body: { inputs } },
        deadlineAt,
      );
      if (json.errors?.length) {
        throw new HubspotError(
          HubspotErrorCode.Validation,
          `HubSpot ${result.statusCode} associating ${fromType} ${fromId} with ${toType}: ${json.errors[0].message}`,
          undefined,
          result,
        );
      }
    }
  }
}

/** `email:<address>` and `phone:<E.164>` of each participant, the ledger subjects of matched participants. */
export function participantIdentities(participants: unknown): string[] {
  if (!Array.isArray(participants)) return [];
  const identities = new Set<string>();
  for (const participant of participants as { email?: string; phone?: string }[]) {
    const email = normalizeEmail(participant?.email);
    const phone = normalizePhone(participant?.phone);
    if (email) identities.add(`email:${email}`);
    if (phone) identities.add(`phone:${phone}`);
  }
  return [...identities];
}
