import type { CloudEvent } from '../../../canonical/cloud-event';

export type HubspotObjectType = 'contacts' | 'companies' | 'calls' | 'meetings' | 'notes';

/**
 * One kind of HubSpot record the hub writes, and how: which canonical events become it, its mapping file
 * (mappings/destinations/hubspot/<mapping>.jsonata), the unique property it is upserted on, and the HUBSPOT_DEFINED
 * association type ids from it (HubSpot associations v4, "association type id values").
 */
export interface HubspotObjectKind {
  objectType: HubspotObjectType;
  /** The ledger's CRM object type: leads are HubSpot contacts too. */
  ledgerType: 'contact' | 'company' | 'call' | 'meeting' | 'note';
  mapping: 'contact' | 'lead' | 'company' | 'call' | 'meeting' | 'note';
  /** `email` / `domain`; `external` is the destination's externalIdProperty, whose value is the canonical subject. */
  upsertOn: 'email' | 'domain' | 'external';
  associations: { contacts?: number; companies?: number };
}

export const CONTACT: HubspotObjectKind = {
  objectType: 'contacts',
  ledgerType: 'contact',
  mapping: 'contact',
  upsertOn: 'email',
  // contact → company, unlabeled (primary is set by HubSpot itself).
  associations: { companies: 279 },
};
export const LEAD: HubspotObjectKind = { ...CONTACT, mapping: 'lead', associations: {} };
export const COMPANY: HubspotObjectKind = {
  objectType: 'companies',
  ledgerType: 'company',
  mapping: 'company',
  upsertOn: 'domain',
  associations: {},
};
export const CALL: HubspotObjectKind = {
  objectType: 'calls',
  ledgerType: 'call',
  mapping: 'call',
  upsertOn: 'external',
  associations: { contacts: 194, companies: 182 },
};
export const MEETING: HubspotObjectKind = {
  objectType: 'meetings',
  ledgerType: 'meeting',
  mapping: 'meeting',
  upsertOn: 'external',
  associations: { contacts: 200, companies: 188 },
};
export const NOTE: HubspotObjectKind = {
  objectType: 'notes',
  ledgerType: 'note',
  mapping: 'note',
  upsertOn: 'external',
  associations: { contacts: 202 },
};

/** The HubSpot record a canonical event writes, or why it writes none (outcome `unchanged`, never a silent success). */
export function hubspotKindOf(event: Pick<CloudEvent, 'type' | 'data'>): HubspotObjectKind | { skip: string } {
  const [entity, action] = event.type.split('.');
  if (action === 'deleted') {
    return { skip: `${event.type}: the hub does not delete HubSpot records; archive it in HubSpot if needed` };
  }
  switch (entity) {
    case 'contact':
      return CONTACT;
    case 'lead':
      return LEAD;
    case 'company':
      return COMPANY;
    case 'note':
      return NOTE;
    case 'activity': {
      if (action === 'transcript_segment') {
        return { skip: 'activity.transcript_segment: the call gets the whole transcript with activity.completed' };
      }
      const kind = (event.data as { kind?: string }).kind;
      if (kind === 'call') return CALL;
      // A recording (Sales Ask) is a recorded meeting: its notes and action items go into the meeting body.
      if (kind === 'meeting' || kind === 'recording') return MEETING;
      return { skip: `activity of kind ${kind}: no HubSpot object is written for it` };
    }
    default:
      return { skip: `${event.type}: no HubSpot object is written for this type` };
  }
}
