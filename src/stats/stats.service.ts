import { Injectable } from '@nestjs/common';
import { DeliveryService } from '../delivery/delivery.service';
import { DestinationService } from '../destinations/destination.service';
import { InboundEventService } from '../ingest/inbound-event.service';
import { VerificationRejectionService } from '../ingest/verification-rejection.service';
import { SourceService } from '../sources/source.service';
import { StatsView } from './stats.dto';

const HOUR_MS = 3600_000;

/**
 * The overview numbers (GET /api/stats), in hour buckets ending with the current hour. Each count is one grouped
 * query in its owning service (date buckets over an indexed time column, generate_series for the empty hours).
 * Listed: every connector with a source and every destination not archived, plus any archived one with traffic.
 */
@Injectable()
export class StatsService {
  constructor(
    private readonly inbound: InboundEventService,
    private readonly rejections: VerificationRejectionService,
    private readonly deliveries: DeliveryService,
    private readonly sources: SourceService,
    private readonly destinations: DestinationService,
  ) {}

  async hourly(hours: number, now = new Date()): Promise<StatsView> {
    const currentHour = Math.floor(now.getTime() / HOUR_MS) * HOUR_MS;
    const from = new Date(currentHour - (hours - 1) * HOUR_MS);
    const to = new Date(currentHour + HOUR_MS);
    const [inbound, rejected, outcomes, sources, destinations] = await Promise.all([
      this.inbound.hourlyByConnector(from, hours),
      this.rejections.hourly(from, hours),
      this.deliveries.hourlyOutcomes(from, hours),
      this.sources.list(true),
      this.destinations.list(true),
    ]);
    const zeros = () => new Array<number>(hours).fill(0);

    const connectors = new Map<
      string,
      { connector: string; accepted: number[]; rejected: number[]; failed: number[] }
    >();
    const connectorRow = (connector: string) => {
      let row = connectors.get(connector);
      if (!row) connectors.set(connector, (row = { connector, accepted: zeros(), rejected: zeros(), failed: zeros() }));
      return row;
    };
    for (const source of sources) if (!source.archivedAt) connectorRow(source.connector);
    for (const row of inbound)
      Object.assign(connectorRow(row.connector), { accepted: row.accepted, failed: row.failed });
    const connectorOf = new Map(sources.map((s) => [s.id, s.connector]));
    for (const row of rejected) {
      const connector = connectorOf.get(row.sourceId);
      if (!connector) continue;
      const target = connectorRow(connector).rejected;
      row.counts.forEach((count, i) => (target[i] += count));
    }

    const outcomesOf = new Map(outcomes.map((row) => [row.destinationId, row]));
    const destinationRows = destinations
      .filter((d) => !d.archivedAt || outcomesOf.has(d.id))
      .map((d) => ({
        destinationId: d.id,
        name: d.name,
        type: d.type,
        delivered: outcomesOf.get(d.id)?.delivered ?? zeros(),
        failed: outcomesOf.get(d.id)?.failed ?? zeros(),
      }));

    return {
      from: from.toISOString(),
      to: to.toISOString(),
      bucketSeconds: HOUR_MS / 1000,
      connectors: [...connectors.values()].sort((a, b) => a.connector.localeCompare(b.connector)),
      destinations: destinationRows,
    };
  }
}
