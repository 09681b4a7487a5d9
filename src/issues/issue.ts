import { createHash } from 'node:crypto';

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
  /** Stable for the same group, URL-safe (groupId). */
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
  /** Every group failing now. */
  groups(): Promise<FoundGroup[]>;
  /** The bulk action on a group (its kind is the group's `action.kind`); how many it acted on. */
  act?(key: IssueKey): Promise<number>;
}

/** Nest multi-provider token: the registered IssueKind instances. */
export const ISSUE_KIND_PROVIDERS = Symbol('ISSUE_KIND_PROVIDERS');

/** Most members one bulk action takes on; the answer's count says how many, and calling again takes the rest. */
export const MAX_ISSUE_ACTION = 10_000;

/**
 * `<kind>.<22 base64url characters of SHA-256 of kind and key>`, the key's fields in a fixed order: the same group
 * always gets the same id, short enough for a URL path segment whatever the key holds (a mapping reason may be
 * 300 characters).
 */
export function groupId(kind: IssueKindName, key: IssueKey): string {
  const ordered = Object.fromEntries(
    Object.entries(key)
      .filter(([, value]) => value !== undefined)
      .sort(([a], [b]) => a.localeCompare(b)),
  );
  return `${kind}.${createHash('sha256')
    .update(JSON.stringify([kind, ordered]))
    .digest('base64url')
    .slice(0, 22)}`;
}

/** The kind an id names, or undefined when it is not an id groupId made. */
export function kindOfGroupId(id: string): IssueKindName | undefined {
  const match = /^([a-z]+)\.[A-Za-z0-9_-]{22}$/.exec(id);
  return ISSUE_KINDS.find((kind) => kind === match?.[1]);
}

export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}
