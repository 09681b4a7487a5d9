/** CloudEvents 1.0 envelope as the hub emits it (DESIGN §4). `data` is one canonical entity. */
export interface CloudEvent {
  specversion: '1.0';
  id: string;
  type: string;
  source: string;
  subject: string;
  time: string;
  datacontenttype: 'application/json';
  connector: string;
  vendoreventtype: string;
  vendoreventid?: string;
  test: boolean;
  /**
   * Issue 12 extension attributes, present only when the event's source enriches (has an API credential for a
   * fetch the connector declares): `enriched`, or `failed` with `enrichmenterror` saying why, in which case `data`
   * lacks what the fetch would have added.
   */
  enrichment?: 'enriched' | 'failed';
  enrichmenterror?: string;
  data: Record<string, unknown>;
}

export const CANONICAL_TYPES = [
  'activity.created',
  'activity.updated',
  'activity.scheduled',
  'activity.completed',
  'activity.transcribed',
  'activity.analyzed',
  'activity.deleted',
  'activity.failed',
  'activity.transcript_segment',
  'note.created',
  'note.updated',
  'note.deleted',
  'signal.detected',
  'contact.created',
  'contact.updated',
  'contact.deleted',
  'company.created',
  'company.updated',
  'company.deleted',
  'lead.created',
  'lead.updated',
  'deal.updated',
  'message.received',
  'tag.created',
  'tag.updated',
  'tag.deleted',
] as const;

export type CanonicalType = (typeof CANONICAL_TYPES)[number];

export const SUBJECT_ENTITIES = ['activity', 'contact', 'company', 'lead', 'deal', 'note', 'tag'] as const;
