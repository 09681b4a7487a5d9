import { Injectable } from '@nestjs/common';
import { EventsService } from '../../events/events.service';
import { EnrichmentFailureGroup, InboundEventService } from '../../ingest/inbound-event.service';
import { SourceService } from '../../sources/source.service';
import { FoundGroup, IssueKey, IssueKind, MAX_ISSUE_ACTION, plural } from '../issue';

/**
 * Issue 12: events whose vendor document could not be fetched (they went on without it, flagged
 * `enrichment: "failed"`), by source and error code (InboundEventService.enrichmentFailureGroups). Bulk action:
 * fetch again and re-normalise, through the events API; a changed output is delivered as a new revision.
 */
@Injectable()
export class EnrichmentIssues implements IssueKind {
  readonly kind = 'enrichment' as const;

  constructor(
    private readonly inbound: InboundEventService,
    private readonly events: EventsService,
    private readonly sources: SourceService,
  ) {}

  async groups(): Promise<FoundGroup[]> {
    const rows = await this.inbound.enrichmentFailureGroups();
    if (!rows.length) return [];
    const names = new Map((await this.sources.list(true)).map((s) => [s.id, s.name]));
    return rows.map((row) => this.present(row, names.get(row.sourceId) ?? row.sourceId));
  }

  /** Events that can no longer be fetched (key removed, payload purged) are skipped; the count says how many went. */
  async act(key: IssueKey): Promise<number> {
    if (!key.sourceId || !key.code) return 0;
    let started = 0;
    for (const id of await this.inbound.enrichmentFailures(key.sourceId, key.code, MAX_ISSUE_ACTION)) {
      const ok = await this.events.enrich(id).then(
        () => true,
        () => false,
      );
      if (ok) started++;
    }
    return started;
  }

  private present(row: EnrichmentFailureGroup, sourceName: string): FoundGroup {
    return {
      kind: this.kind,
      title: `${sourceName}: enrichment failed, ${row.code} (${row.lastError})`,
      key: { sourceId: row.sourceId, code: row.code },
      count: row.count,
      firstSeenAt: row.firstSeenAt,
      lastSeenAt: row.lastSeenAt,
      sampleIds: row.sampleIds,
      action: { kind: 'retry', label: `Fetch ${plural(row.count, 'document')} again` },
    };
  }
}
