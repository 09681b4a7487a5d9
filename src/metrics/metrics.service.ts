import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

const DESTINATION_LABELS = ['destination', 'name', 'type'] as const;

/** Prometheus metrics on a registry of our own (not the global one), so several hubs in one test process don't clash. */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  readonly ingested = new Counter({
    name: 'switchboard_ingest_total',
    help: 'Vendor deliveries by outcome (accepted, duplicate, rejected)',
    labelNames: ['connector', 'outcome', 'reason'] as const,
    registers: [this.registry],
  });

  readonly normalized = new Counter({
    name: 'switchboard_normalize_total',
    help: 'Normalize jobs by outcome',
    labelNames: ['connector', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly deliveryAttempts = new Counter({
    name: 'switchboard_delivery_attempts_total',
    help: 'Outbound delivery attempts by outcome',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly deliveryDuration = new Histogram({
    name: 'switchboard_delivery_duration_seconds',
    help: 'Outbound request duration',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15],
    registers: [this.registry],
  });

  /** Set from the destination adapters at each scrape (MetricsController). */
  readonly crmQuotaUsed = new Gauge({
    name: 'switchboard_crm_quota_used_ratio',
    help: 'Share of a CRM destination’s API budget used, as the CRM last reported it',
    labelNames: ['type', 'destination'] as const,
    registers: [this.registry],
  });

  readonly crmDeferring = new Gauge({
    name: 'switchboard_crm_deferring',
    help: '1 while a CRM destination defers non-urgent writes because its budget is nearly spent',
    labelNames: ['type', 'destination'] as const,
    registers: [this.registry],
  });

  /**
   * Per destination (labels: destination id, name, type), set from the database at each scrape by
   * DestinationHealthService.refreshMetrics; deleted (archived) destinations drop out.
   */
  readonly destinationSuccessRatio = new Gauge({
    name: 'switchboard_destination_success_ratio',
    help: 'Share of a destination’s deliveries finished in the last 24 h that succeeded (absent when none finished)',
    labelNames: DESTINATION_LABELS,
    registers: [this.registry],
  });

  readonly destinationBacklog = new Gauge({
    name: 'switchboard_destination_backlog',
    help: 'Deliveries a destination is still owed: pending, retrying or being sent',
    labelNames: DESTINATION_LABELS,
    registers: [this.registry],
  });

  readonly destinationLastSuccess = new Gauge({
    name: 'switchboard_destination_last_success_timestamp_seconds',
    help: 'When a delivery to the destination last succeeded (unix seconds; absent when none ever did)',
    labelNames: DESTINATION_LABELS,
    registers: [this.registry],
  });

  readonly destinationLastFailure = new Gauge({
    name: 'switchboard_destination_last_failure_timestamp_seconds',
    help: 'When an attempt to the destination last failed (unix seconds; absent when none ever did)',
    labelNames: DESTINATION_LABELS,
    registers: [this.registry],
  });

  readonly destinationEnabled = new Gauge({
    name: 'switchboard_destination_enabled',
    help: '1 while a destination receives events, 0 while it is disabled (410, failure window, operator)',
    labelNames: DESTINATION_LABELS,
    registers: [this.registry],
  });

  readonly destinationsAutoDisabled = new Counter({
    name: 'switchboard_destination_auto_disabled_total',
    help: 'Destinations disabled because their deliveries only failed for HUB_DESTINATION_DISABLE_AFTER',
    labelNames: DESTINATION_LABELS,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'switchboard_' });
  }
}
