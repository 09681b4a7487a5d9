import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { CANONICAL_TYPES } from '../canonical/cloud-event';
import { matchesAnyGlob } from '../common/glob';
import { ROOT_LOGGER } from '../common/logger';
import { HUB_CONFIG, HubConfig } from '../config/hub-config';
import { DeliveryHealthRow, DeliveryService, MissedPosition, MissedScope } from '../delivery/delivery.service';
import { MetricsService } from '../metrics/metrics.service';
import { PipelineQueue } from '../pipeline/pipeline.queue';
import { RoutingService } from '../routing/routing.service';
import { DestinationHealthView, DestinationView, MissedEventsView, ReplayMissedResult } from './destination.dto';
import { DestinationEntity } from './destination.entity';
import { DestinationErrorCode, DestinationException } from './destination.exception';
import { DestinationService, SigningSecret } from './destination.service';
import { SECRET_BOX } from '../common/secret-box.provider';
import { SecretBox } from '../common/secret-box';

/** Health figures cover the last 24 h (issue 9). */
export const HEALTH_WINDOW_MS = 24 * 3600 * 1000;
/** Missed events are replayed in pages: each page one transaction, then one bulk enqueue. */
export const REPLAY_PAGE = 500;
/**
 * Routing reads the active destinations before its transaction commits, so an event normalised while a destination
 * was being re-enabled may have been routed without it, yet stored just after. The missed window stretches this
 * far past re-enabling; events the destination did get have a delivery and are left out.
 */
export const REENABLE_SLACK_MS = 60_000;
/** The failure check runs a tenth of the window apart, between these bounds. */
const CHECK_MIN_MS = 1000;
const CHECK_MAX_MS = 5 * 60_000;
/** lastError is one line of at most this many characters. */
export const ERROR_SUMMARY_MAX = 200;

/**
 * Destination health (issue 9): figures for the API and /metrics, the failure window that disables a destination
 * whose deliveries only fail (HUB_DESTINATION_DISABLE_AFTER), and what a re-enabled destination missed. Reads
 * deliveries through DeliveryService, creates them through RoutingService (one row per destination and event,
 * ON CONFLICT DO NOTHING) and enqueues them through PipelineQueue, like every other delivery.
 *
 * The failure check runs in worker processes at boot and then every tenth of the window (1 s to 5 min), as the
 * reconciler runs its passes.
 */
@Injectable()
export class DestinationHealthService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private metricsRefresh?: Promise<void>;

  constructor(
    private readonly dataSource: DataSource,
    private readonly destinations: DestinationService,
    private readonly deliveries: DeliveryService,
    private readonly routing: RoutingService,
    private readonly queue: PipelineQueue,
    private readonly metrics: MetricsService,
    @Inject(SECRET_BOX) private readonly box: SecretBox,
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.role === 'api' || !this.config.destinationDisableAfterMs) return;
    this.tick();
    this.timer = setInterval(() => this.tick(), this.checkIntervalMs);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  get checkIntervalMs(): number {
    return Math.min(CHECK_MAX_MS, Math.max(CHECK_MIN_MS, Math.round(this.config.destinationDisableAfterMs / 10)));
  }

  /** The API shape of each destination, with its health: one statement for all of them. */
  async views(entities: DestinationEntity[], secret?: string): Promise<DestinationView[]> {
    const health = await this.health(entities);
    return entities.map((entity) => this.destinations.view(entity, health.get(entity.id)!, secret));
  }

  async view(entity: DestinationEntity, secret?: string): Promise<DestinationView> {
    return (await this.views([entity], secret))[0];
  }

  async health(entities: DestinationEntity[], now = new Date()): Promise<Map<string, DestinationHealthView>> {
    const rows = await this.deliveries.health(
      entities.map((entity) => entity.id),
      new Date(now.getTime() - HEALTH_WINDOW_MS),
    );
    const byId = new Map(rows.map((row) => [row.destinationId, row]));
    return new Map(entities.map((entity) => [entity.id, this.healthView(entity, byId.get(entity.id))]));
  }

  /**
   * What a destination missed while it was disabled: the canonical events of its last disabled spell (recorded when
   * it was re-enabled) that match its eventTypes and test setting and that it has no delivery of, and the
   * deliveries it was still owed, which failed because it was disabled.
   */
  async missed(destination: DestinationEntity): Promise<MissedEventsView | undefined> {
    const scope = this.missedScope(destination);
    if (!scope) return undefined;
    return { count: await this.deliveries.countMissed(scope), since: destination.missedSince!.toISOString() };
  }

  /**
   * Sends the owed deliveries that failed because it was disabled again, then creates and enqueues a delivery for
   * each missed event, page by page. Idempotent: a delivery is one row per
   * (destination, event) with a derived id (the webhook-id), created with ON CONFLICT DO NOTHING, so a second call,
   * or two at once, create nothing twice; events it already has a delivery of are not even read again.
   */
  async replayMissed(id: string): Promise<ReplayMissedResult> {
    const destination = await this.destinations.get(id);
    if (destination.status !== 'active') {
      throw new DestinationException(
        DestinationErrorCode.Disabled,
        `Destination ${id} is disabled (${destination.disabledReason ?? 'no reason recorded'}); re-enable it with ` +
          `PATCH {"enabled": true} first`,
      );
    }
    const scope = this.missedScope(destination);
    if (!scope) return { count: 0 };
    let count = 0;
    // Deliveries it was owed when it was disabled, which failed for that reason: the same rows, sent again.
    for (;;) {
      const again = await this.deliveries.retryCutOff(scope, REPLAY_PAGE);
      if (again.length) await this.queue.deliver(again);
      count += again.length;
      if (again.length < REPLAY_PAGE) break;
    }
    let after: MissedPosition | undefined;
    for (;;) {
      const page = await this.deliveries.missedPage(scope, after, REPLAY_PAGE);
      if (!page.length) break;
      const created = await this.dataSource.transaction(async (manager) => {
        const pending: { id: string; destinationId: string }[] = [];
        for (const { event } of page) {
          const routed = await this.routing.route(manager, event, [destination]);
          pending.push(...routed.filter((delivery) => delivery.status === 'pending'));
        }
        return pending;
      });
      await this.queue.deliver(created);
      count += created.length;
      if (page.length < REPLAY_PAGE) break;
      after = page[page.length - 1];
    }
    this.logger.info({ destinationId: id, count, since: scope.since }, 'replayed what a destination missed');
    return { count };
  }

  /**
   * The failure window: disables each active destination that has delivered nothing for
   * HUB_DESTINATION_DISABLE_AFTER while its deliveries ended exhausted (DeliveryService.failingThroughout): the
   * first exhaustion since its last success, and since it was last re-enabled, is older than the window.
   * Returns the ids it disabled.
   */
  async disableFailing(now = new Date()): Promise<string[]> {
    const windowMs = this.config.destinationDisableAfterMs;
    if (!windowMs) return [];
    const active = await this.destinations.active();
    // A destination re-enabled by an operator gets a whole window again before its old failures count.
    const failing = await this.deliveries.failingThroughout(
      active.map((destination) => ({ id: destination.id, enabledSince: destination.missedUntil })),
      new Date(now.getTime() - windowMs),
    );
    const disabled: string[] = [];
    for (const found of failing) {
      const destination = active.find((candidate) => candidate.id === found.destinationId)!;
      const lastError = summarizeError(found.lastError, this.secretsOf(destination));
      const reason =
        `auto-disabled on ${now.toISOString()}: every delivery since ${new Date(found.failingSince).toISOString()} ` +
        `ended exhausted and none succeeded for ${formatDuration(windowMs)} (HUB_DESTINATION_DISABLE_AFTER); ` +
        `last success: ${found.lastSuccessAt ? new Date(found.lastSuccessAt).toISOString() : 'never'}` +
        (lastError ? `; last error: ${lastError}` : '');
      if (!(await this.destinations.autoDisable(destination.id, reason, now))) continue;
      disabled.push(destination.id);
      this.metrics.destinationsAutoDisabled.inc(labelsOf(destination));
      this.logger.warn(
        { destinationId: destination.id, name: destination.name, failingSince: found.failingSince, reason },
        'destination auto-disabled after its failure window',
      );
    }
    return disabled;
  }

  /**
   * Sets the per-destination gauges from the database, at each scrape. Concurrent scrapes share one refresh; the
   * gauges are reset only once the figures are in, so a scrape never sees them half set.
   */
  refreshMetrics(): Promise<void> {
    this.metricsRefresh ??= this.setMetrics()
      // The database being down must not cost the scrape every other metric: the gauges keep their last values.
      .catch((err: Error) => this.logger.warn({ err: err.message }, 'destination metrics not refreshed'))
      .finally(() => (this.metricsRefresh = undefined));
    return this.metricsRefresh;
  }

  private async setMetrics(): Promise<void> {
    const destinations = await this.destinations.list();
    const health = await this.health(destinations);
    const { destinationSuccessRatio, destinationBacklog, destinationLastSuccess, destinationLastFailure } =
      this.metrics;
    const gauges = [destinationSuccessRatio, destinationBacklog, destinationLastSuccess, destinationLastFailure];
    for (const gauge of [...gauges, this.metrics.destinationEnabled]) gauge.reset();
    for (const destination of destinations) {
      const labels = labelsOf(destination);
      const figures = health.get(destination.id)!;
      if (figures.successRate !== null) destinationSuccessRatio.set(labels, figures.successRate);
      destinationBacklog.set(labels, figures.backlog);
      if (figures.lastSuccessAt) destinationLastSuccess.set(labels, Date.parse(figures.lastSuccessAt) / 1000);
      if (figures.lastFailureAt) destinationLastFailure.set(labels, Date.parse(figures.lastFailureAt) / 1000);
      this.metrics.destinationEnabled.set(labels, destination.status === 'active' ? 1 : 0);
    }
  }

  private tick(): void {
    if (this.running) return;
    this.running = this.disableFailing()
      .then(() => undefined)
      .catch((err: Error) => this.logger.warn({ err: err.message }, 'destination failure check failed'))
      .finally(() => (this.running = undefined));
  }

  private healthView(destination: DestinationEntity, row: DeliveryHealthRow | undefined): DestinationHealthView {
    const delivered = row?.delivered ?? 0;
    const failed = row?.failed ?? 0;
    return {
      successRate: delivered + failed ? delivered / (delivered + failed) : null,
      delivered24h: delivered,
      failed24h: failed,
      backlog: row?.backlog ?? 0,
      lastSuccessAt: row?.lastSuccessAt ? new Date(row.lastSuccessAt).toISOString() : null,
      lastFailureAt: row?.lastFailureAt ? new Date(row.lastFailureAt).toISOString() : null,
      // Opening the destination's secrets costs a decryption: only when there is an error to redact.
      lastError: row?.lastError ? summarizeError(row.lastError, this.secretsOf(destination)) : null,
    };
  }

  private missedScope(destination: DestinationEntity): MissedScope | undefined {
    if (!destination.missedSince || !destination.missedUntil) return undefined;
    return {
      destinationId: destination.id,
      types: CANONICAL_TYPES.filter((type) => matchesAnyGlob(type, destination.eventTypes)),
      includeTest: destination.includeTest,
      since: destination.missedSince,
      until: new Date(destination.missedUntil.getTime() + REENABLE_SLACK_MS),
    };
  }

  /** Every secret value the destination holds, so none can reach an error summary even if a receiver echoes it. */
  private secretsOf(destination: DestinationEntity): string[] {
    const signing = this.box
      .open<SigningSecret[]>(destination.secretsSealed)
      .flatMap((s) => [s.secret, s.secret.replace(/^whsec_/, '')]);
    const config = destination.configSecretsSealed
      ? Object.values(this.box.open<Record<string, unknown>>(destination.configSecretsSealed))
      : [];
    return [...signing, ...Object.values(this.destinations.headers(destination)), ...config].filter(
      (value): value is string => typeof value === 'string',
    );
  }
}

function labelsOf(destination: DestinationEntity): { destination: string; name: string; type: string } {
  return { destination: destination.id, name: destination.name, type: destination.type };
}

/** Credentials as they appear in error texts: `key=value` or `"key": "value"` pairs, bearer tokens, URL userinfo. */
const CREDENTIAL_PAIR =
  /((?:api[_-]?key|api[_-]?token|access[_-]?token|token|secret|password|passwd|signature|authorization|auth)["']?\s*[=:]\s*["']?)(?:Bearer\s+)?[^\s"'&,;)]+/gi;
const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/g;
const USERINFO = /(\w+:\/\/)[^/\s@]+@/g;
const WHSEC = /whsec_[A-Za-z0-9+/=]+/g;
/** Long opaque runs (tokens, keys, signatures) that no human reads in an error anyway. */
const OPAQUE = /[A-Za-z0-9+/_=-]{40,}/g;
const REDACTED = '[redacted]';

/**
 * lastError as the API and the auto-disable reason show it: one line of at most ERROR_SUMMARY_MAX characters, with
 * the destination's own secrets and anything shaped like a credential replaced. Errors are short reasons
 * ("HTTP 503", a CRM's error message), never response bodies; the cap keeps a long vendor message from becoming one.
 */
export function summarizeError(error: string | null, secrets: string[] = []): string | null {
  if (!error) return null;
  let text = error;
  for (const secret of secrets.filter((s) => s.length >= 6).sort((a, b) => b.length - a.length)) {
    text = text.split(secret).join(REDACTED);
  }
  text = text
    .replace(WHSEC, REDACTED)
    .replace(USERINFO, `$1${REDACTED}@`)
    .replace(BEARER, `$1 ${REDACTED}`)
    .replace(CREDENTIAL_PAIR, `$1${REDACTED}`)
    .replace(OPAQUE, REDACTED)
    .replace(/\s+/g, ' ')
    .trim();
  return text.length > ERROR_SUMMARY_MAX ? `${text.slice(0, ERROR_SUMMARY_MAX - 1)}…` : text;
}

/** 5 days, 36 hours, 90 minutes, 3 s: the failure window as the disabled reason says it. */
export function formatDuration(ms: number): string {
  const units: [number, string][] = [
    [86_400_000, 'day'],
    [3600_000, 'hour'],
    [60_000, 'minute'],
    [1000, 'second'],
  ];
  for (const [size, unit] of units) {
    if (ms >= size && ms % size === 0) return `${ms / size} ${unit}${ms === size ? '' : 's'}`;
  }
  return `${ms} ms`;
}
