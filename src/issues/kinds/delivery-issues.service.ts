import { Injectable } from '@nestjs/common';
import { DeliveriesService } from '../../deliveries/deliveries.service';
import { DeliveryService, FailingDeliveryGroup, FailingDeliveryKey } from '../../delivery/delivery.service';
import { DestinationService } from '../../destinations/destination.service';
import { FoundGroup, IssueKey, IssueKind, MAX_ISSUE_ACTION, plural } from '../issue';

const STATUSES = ['failed', 'exhausted'] as const;

/**
 * Deliveries failed or exhausted now, by destination, status and error code (DeliveryService.failingGroups).
 * Archived destinations are left out: nothing can be done for them. Bulk action: retry, through the deliveries API.
 */
@Injectable()
export class DeliveryIssues implements IssueKind {
  readonly kind = 'delivery' as const;

  constructor(
    private readonly delivery: DeliveryService,
    private readonly deliveries: DeliveriesService,
    private readonly destinations: DestinationService,
  ) {}

  async groups(): Promise<FoundGroup[]> {
    return this.present(await this.delivery.failingGroups());
  }

  async act(key: IssueKey): Promise<number> {
    const failing = asKey(key);
    if (!failing) return 0;
    const ids = await this.delivery.failingIds(failing, MAX_ISSUE_ACTION);
    return this.deliveries.retryIds(ids, [failing.status]);
  }

  private async present(rows: FailingDeliveryGroup[]): Promise<FoundGroup[]> {
    const names = new Map(
      (await this.destinations.list(true)).map((d) => [d.id, { name: d.name, archived: !!d.archivedAt }]),
    );
    return rows
      .filter((row) => names.get(row.destinationId)?.archived === false)
      .map((row) => ({
        kind: this.kind,
        title: `${names.get(row.destinationId)!.name}: ${row.status}, ${row.code}`,
        key: { destinationId: row.destinationId, status: row.status, code: row.code },
        count: row.count,
        firstSeenAt: row.firstSeenAt,
        lastSeenAt: row.lastSeenAt,
        sampleIds: row.sampleIds,
        action: { kind: 'retry', label: `Retry ${plural(row.count, 'delivery', 'deliveries')}` },
      }));
  }
}

function asKey(key: IssueKey): FailingDeliveryKey | undefined {
  const status = STATUSES.find((s) => s === key.status);
  if (!status || !key.destinationId || key.code === undefined) return undefined;
  return { destinationId: key.destinationId, status, code: key.code };
}
