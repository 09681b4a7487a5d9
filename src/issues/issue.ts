/**
 * Issue 9: what is failing now, in groups ops can act on. Each kind of failure is one IssueKind provider in
 * `kinds/`, registered in ISSUE_KIND_PROVIDERS (issues.module.ts); adding a kind (e.g. enrichment failures) is one
 * class there, its key fields and, if it has one, its bulk action. IssuesService knows nothing about any kind.
 */
export const ISSUE_KINDS = ['delivery', 'mapping', 'verification', 'enrichment'] as const;
export type IssueKindName = (typeof ISSUE_KINDS)[number];

/** What identifies a group within its kind; every value a string (CONTRACTS.md). */
export interface IssueKey {
  destinationId?: string;
  status?: string;
  code?: string;
  connector?: string;
  eventType?: string;
  reason?: string;
  sourceId?: string;
}

export type IssueActionKind = 'retry' | 'renormalize';

export interface IssueGroup {
  /** Stable for the same group, URL-safe: base64url of kind and key (groupId). */
  id: string;
  kind: IssueKindName;
  title: string;
  key: IssueKey;
  count: number;
  firstSeenAt: Date;
  lastSeenAt: Date;
  /** At most 5, newest first: delivery ids, inbound event ids or rejection ids depending on the kind. */
  sampleIds: string[];
  action: { kind: IssueActionKind; label: string } | null;
}

/** A group as a kind finds it; IssuesService adds the id. */
export type FoundGroup = Omit<IssueGroup, 'id'>;

/** One kind of failure: how to find its groups now and, optionally, how to act on one in bulk. */
export interface IssueKind {
  readonly kind: IssueKindName;
  /** The key fields of this kind, all required: a decoded id with others (or fewer) is no group of it. */
  readonly keyFields: readonly (keyof IssueKey)[];
  /** Every group failing now. */
  groups(): Promise<FoundGroup[]>;
  /** The group with this key, or undefined when nothing in it fails any more. */
  group(key: IssueKey): Promise<FoundGroup | undefined>;
  /** The bulk action on a group (its kind is the group's `action.kind`); how many it acted on. */
  act?(key: IssueKey): Promise<number>;
}

/** Nest multi-provider token: the registered IssueKind instances. */
export const ISSUE_KIND_PROVIDERS = Symbol('ISSUE_KIND_PROVIDERS');

/** Most members one bulk action takes on; the answer's count says how many, and calling again takes the rest. */
export const MAX_ISSUE_ACTION = 10_000;

/** base64url of `[kind, key]` with the key's fields in a fixed order: the same group always gets the same id. */
export function groupId(kind: IssueKindName, key: IssueKey): string {
  const ordered = Object.fromEntries(
    Object.entries(key)
      .filter(([, value]) => value !== undefined)
      .sort(([a], [b]) => a.localeCompare(b)),
  );
  return Buffer.from(JSON.stringify([kind, ordered]), 'utf8').toString('base64url');
}

/** The kind and key inside an id, or undefined when it is not an id groupId made. */
export function parseGroupId(id: string): { kind: IssueKindName; key: IssueKey } | undefined {
  if (!/^[A-Za-z0-9_-]{1,4096}$/.test(id)) return undefined;
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(id, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (!Array.isArray(decoded) || decoded.length !== 2) return undefined;
  const [kind, key] = decoded as [unknown, unknown];
  if (!ISSUE_KINDS.includes(kind as IssueKindName)) return undefined;
  if (!key || typeof key !== 'object' || Array.isArray(key)) return undefined;
  if (!Object.values(key).every((value) => typeof value === 'string' && !value.includes('\u0000'))) return undefined;
  return { kind: kind as IssueKindName, key: key as IssueKey };
}

export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}
