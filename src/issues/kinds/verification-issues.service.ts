import { Injectable } from '@nestjs/common';
import { RejectionGroupRow, VerificationRejectionService } from '../../ingest/verification-rejection.service';
import { SourceService } from '../../sources/source.service';
import { FoundGroup, IssueKind, plural } from '../issue';

/** Rejections older than this are history, not a current issue (the table keeps them for HUB_RETENTION_DAYS). */
export const VERIFICATION_WINDOW_MS = 24 * 3600 * 1000;

/**
 * Deliveries refused at /hooks for a known source in the last 24 h, by source and reason. No bulk action: nothing
 * was stored, so only the vendor can send again (after ops fix the secret or the vendor's settings).
 */
@Injectable()
export class VerificationIssues implements IssueKind {
  readonly kind = 'verification' as const;

  constructor(
    private readonly rejections: VerificationRejectionService,
    private readonly sources: SourceService,
  ) {}

  async groups(): Promise<FoundGroup[]> {
    return this.present(await this.rejections.groups(since()));
  }

  private async present(rows: RejectionGroupRow[]): Promise<FoundGroup[]> {
    const names = new Map((await this.sources.list(true)).map((s) => [s.id, s.name]));
    return rows.map((row) => ({
      kind: this.kind,
      title: `${names.get(row.sourceId) ?? row.sourceId}: ${plural(row.count, 'delivery', 'deliveries')} refused, ${row.status} ${row.reason} (${row.message})`,
      key: { sourceId: row.sourceId, reason: row.reason },
      count: row.count,
      firstSeenAt: row.firstSeenAt,
      lastSeenAt: row.lastSeenAt,
      sampleIds: row.sampleIds,
      action: null,
    }));
  }
}

const since = () => new Date(Date.now() - VERIFICATION_WINDOW_MS);
