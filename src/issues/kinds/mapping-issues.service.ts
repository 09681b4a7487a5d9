import { Injectable } from '@nestjs/common';
import { EventsService } from '../../events/events.service';
import { FailedEventGroup, FailedEventKey, InboundEventService } from '../../ingest/inbound-event.service';
import { FoundGroup, IssueKey, IssueKind, MAX_ISSUE_ACTION, plural } from '../issue';

/** Longest reason shown in a title; the key keeps it whole. */
const TITLE_REASON = 160;

/**
 * Inbound events that failed normalisation, by connector, vendor event type and normalised reason
 * (InboundEventService.failedGroups): one mapping bug is one group. Bulk action: re-normalise with the mapping in
 * effect, through the events API, so a fixed mapping delivers each event once.
 */
@Injectable()
export class MappingIssues implements IssueKind {
  readonly kind = 'mapping' as const;

  constructor(
    private readonly inbound: InboundEventService,
    private readonly events: EventsService,
  ) {}

  async groups(): Promise<FoundGroup[]> {
    return (await this.inbound.failedGroups()).map((row) => this.present(row));
  }

  async act(key: IssueKey): Promise<number> {
    const failed = asKey(key);
    if (!failed) return 0;
    return this.events.renormalizeMany(await this.inbound.failedIds(failed, MAX_ISSUE_ACTION));
  }

  private present(row: FailedEventGroup): FoundGroup {
    const reason = row.reason.length > TITLE_REASON ? `${row.reason.slice(0, TITLE_REASON - 1)}…` : row.reason;
    return {
      kind: this.kind,
      title: `${row.connector} ${row.eventType}: ${reason}`,
      key: { connector: row.connector, eventType: row.eventType, reason: row.reason },
      count: row.count,
      firstSeenAt: row.firstSeenAt,
      lastSeenAt: row.lastSeenAt,
      sampleIds: row.sampleIds,
      action: { kind: 'renormalize', label: `Re-normalise ${plural(row.count, 'event')}` },
    };
  }
}

function asKey(key: IssueKey): FailedEventKey | undefined {
  if (!key.connector || !key.eventType || key.reason === undefined) return undefined;
  return { connector: key.connector, eventType: key.eventType, reason: key.reason };
}
