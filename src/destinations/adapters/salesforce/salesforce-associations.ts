import type { CloudEvent } from '../../../canonical/cloud-event';
import { CrmLedgerService } from '../shared/crm-ledger.service';
import { normalizeEmail, normalizePhone } from '../shared/identity';
import type { SalesforceClient } from './salesforce.client';

/** Ledger object type for a participant that one search did not find: it is not searched again for a while. */
export const UNMATCHED = 'Unmatched';

export interface Associations {
  /** WhoId (a Contact, else a Lead) and WhatId (an Account), as far as known. */
  fields: { WhoId?: string; WhatId?: string };
  /** Participants that matched no Contact or Lead: recorded, not an error. */
  unmatched: string[];
  /** A search that could not run (network, 5xx, limit): the write goes ahead and the links are retried. */
  pending?: string;
}

interface Participant {
  role?: string;
  email?: string;
  phone?: string;
}

/**
 * Links an activity to the people and company it is about (issue 8: dependency order and participant matching).
 * Explicit links first (links.contactIds, links.leadId, links.companyIds, all from records this hub wrote), then
 * participants by email and E.164 phone: first in the ledger, then by one SOSL search per identity, only while no
 * Contact is found. A Task or Event has one WhoId; Salesforce refuses a WhatId beside a Lead, so a lead gets none.
 */
export class SalesforceAssociations {
  constructor(
    private readonly ledger: CrmLedgerService,
    private readonly options: { recheckUnmatchedMs: number },
  ) {}

  async resolve(
    destinationId: string,
    event: CloudEvent,
    search: { client: SalesforceClient; acquire: () => Promise<boolean>; deadlineMs: number },
  ): Promise<Associations> {
    const data = event.data as {
      direction?: string;
      participants?: Participant[];
      links?: { contactIds?: string[]; companyIds?: string[]; leadId?: string };
    };
    const connector = event.connector;
    const found = async (subject: string, type: string) => (await this.ledger.get(destinationId, subject, type))?.crmId;

    const contacts: string[] = [];
    const leads: string[] = [];
    for (const id of data.links?.contactIds ?? []) {
      const crmId = await found(`contact:${connector}:${id}`, 'Contact');
      if (crmId) contacts.push(crmId);
    }
    if (data.links?.leadId) {
      const crmId = await found(`lead:${connector}:${data.links.leadId}`, 'Lead');
      if (crmId) leads.push(crmId);
    }
    let whatId: string | undefined;
    for (const id of data.links?.companyIds ?? []) {
      whatId ??= (await found(`company:${connector}:${id}`, 'Account')) ?? undefined;
    }

    // On an outbound call the caller is our rep and the callee the customer: look at the customer first.
    const participants = [...(data.participants ?? [])];
    if (data.direction === 'outbound') participants.reverse();
    const identities = participants.flatMap((p) =>
      [normalizeEmail(p.email), normalizePhone(p.phone)]
        .filter((v): v is string => !!v)
        .map((v) => (v.startsWith('+') ? `phone:${v}` : `email:${v}`)),
    );

    const unmatched: string[] = [];
    const toSearch: string[] = [];
    for (const identity of identities) {
      const contact = await found(identity, 'Contact');
      if (contact) {
        contacts.push(contact);
        continue;
      }
      const lead = await found(identity, 'Lead');
      if (lead) {
        leads.push(lead);
        continue;
      }
      const miss = await this.ledger.get(destinationId, identity, UNMATCHED);
      const searchedAt = miss?.stateVersion ? new Date(miss.stateVersion).getTime() : undefined;
      if (searchedAt !== undefined && Date.now() - searchedAt < this.options.recheckUnmatchedMs)
        unmatched.push(identity);
      else toSearch.push(identity);
    }

    let pending: string | undefined;
    for (const identity of toSearch) {
      if (contacts.length) break;
      if (!(await search.acquire())) {
        pending = 'the Salesforce request budget is spent for now';
        break;
      }
      const [scope, term] = identity.startsWith('phone:')
        ? (['PHONE', identity.slice(6)] as const)
        : (['EMAIL', identity.slice(6)] as const);
      const result = await search.client.findPerson(term, scope, search.deadlineMs);
      if (!result.ok) {
        pending = `participant search failed: ${result.error.message}`;
        break;
      }
      if (!result.matches.length) {
        unmatched.push(identity);
        await this.ledger.record(destinationId, identity, UNMATCHED, { stateVersion: new Date() });
        continue;
      }
      for (const match of result.matches) {
        await this.ledger.record(destinationId, identity, match.type, { crmId: match.id });
      }
      const contact = result.matches.find((m) => m.type === 'Contact');
      if (contact) contacts.push(contact.id);
      else leads.push(result.matches[0].id);
    }

    const whoId = contacts[0] ?? leads[0];
    const fields: Associations['fields'] = {};
    if (whoId) fields.WhoId = whoId;
    if (whatId && !(whoId && !contacts.length)) fields.WhatId = whatId;
    return { fields, unmatched, pending };
  }
}
