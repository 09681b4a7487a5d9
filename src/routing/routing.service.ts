import { Inject, Injectable } from '@nestjs/common';
import jsonata from 'jsonata';
import type { Logger } from 'pino';
import { EntityManager } from 'typeorm';
import { CloudEvent } from '../canonical/cloud-event';
import { matchesAnyGlob } from '../common/glob';
import { stableId } from '../common/ids';
import { ROOT_LOGGER } from '../common/logger';
import { DestinationEntity } from '../destinations/destination.entity';
import { MAPPING_LIMITS } from '../mappings/mapping.service';

export interface RoutedDelivery {
  id: string;
  destinationId: string;
  status: 'pending' | 'failed';
}

/** A delivery row to create: `failed` (with the reason) when the destination's filter could not be evaluated. */
export interface PlannedDelivery extends RoutedDelivery {
  canonicalEventId: string;
  lastError: string | null;
}

/**
 * Which destinations get a canonical event: active ones whose type globs match, that take test events if this
 * is one, and whose optional JSONata filter is truthy. One delivery row per (destination, event), created once.
 */
@Injectable()
export class RoutingService {
  private readonly filters = new Map<string, ReturnType<typeof jsonata>>();

  constructor(@Inject(ROOT_LOGGER) private readonly logger: Logger) {}

  async route(manager: EntityManager, event: CloudEvent, destinations: DestinationEntity[]): Promise<RoutedDelivery[]> {
    const created: RoutedDelivery[] = [];
    for (const planned of await this.plan(event, destinations)) {
      const inserted: unknown[] = await manager.query(
        `INSERT INTO delivery (id, destination_id, canonical_event_id, status, next_attempt_at, last_error)
         VALUES ($1, $2, $3, $4, CASE WHEN $4 = 'pending' THEN now() END, $5)
         ON CONFLICT (destination_id, canonical_event_id) DO NOTHING
         RETURNING id`,
        [planned.id, planned.destinationId, planned.canonicalEventId, planned.status, planned.lastError],
      );
      if (inserted.length)
        created.push({ id: planned.id, destinationId: planned.destinationId, status: planned.status });
    }
    return created;
  }

  /**
   * The delivery rows an event should get, without writing them: the normalize job writes them together with the
   * event in one statement (issue 11); `route` writes them one by one inside a transaction.
   */
  async plan(event: CloudEvent, destinations: DestinationEntity[]): Promise<PlannedDelivery[]> {
    const planned: PlannedDelivery[] = [];
    for (const destination of destinations) {
      if (!matchesAnyGlob(event.type, destination.eventTypes)) continue;
      if (event.test && !destination.includeTest) continue;
      let status: RoutedDelivery['status'] = 'pending';
      let lastError: string | null = null;
      if (destination.filter) {
        try {
          if (!(await this.filter(destination.filter).evaluate(event))) continue;
        } catch (err) {
          // A broken filter must not drop the event silently: the delivery is recorded as failed, with the reason.
          status = 'failed';
          lastError = `filter failed: ${(err as { message?: string }).message ?? String(err)}`;
          this.logger.warn(
            { destinationId: destination.id, eventId: event.id, err: lastError },
            'destination filter failed',
          );
        }
      }
      const id = stableId('msg', destination.id, event.id);
      planned.push({ id, destinationId: destination.id, canonicalEventId: event.id, status, lastError });
    }
    return planned;
  }

  private filter(expression: string): ReturnType<typeof jsonata> {
    let compiled = this.filters.get(expression);
    if (!compiled) {
      compiled = jsonata(expression, { timeout: MAPPING_LIMITS.timeoutMs, stack: MAPPING_LIMITS.stackDepth });
      this.filters.set(expression, compiled);
    }
    return compiled;
  }
}
