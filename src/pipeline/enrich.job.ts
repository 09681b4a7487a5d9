import { Processor } from '@nestjs/bullmq';
import { Inject, OnApplicationBootstrap } from '@nestjs/common';
import { Job } from 'bullmq';
import type { Logger } from 'pino';
import { ROOT_LOGGER } from '../common/logger';
import { HUB_CONFIG, HubConfig } from '../config/hub-config';
import { ConnectorRegistry } from '../connectors/connector.registry';
import { EnrichmentErrorCode, EnrichmentOutcome, EnrichmentService } from '../enrichment/enrichment.service';
import { InboundEventService, InboundForEnrich } from '../ingest/inbound-event.service';
import { MetricsService } from '../metrics/metrics.service';
import { SourceService } from '../sources/source.service';
import { DestinationGate } from './destination-gate';
import { NormalizeJob } from './normalize.job';
import {
  ENRICH_LEASE_MARGIN_SECONDS,
  QueueName,
  SOURCE_BUSY_MAX_DELAY_MS,
  SOURCE_FIRST_GUESS_MS,
  SOURCE_WAIT_MS,
} from './pipeline.constants';
import { EnrichJobData } from './pipeline.queue';
import { ownDelayBackoff, PipelineWorkerHost } from './pipeline-worker-host';
import { nextDelayMs } from './retry-policy';

export type EnrichOutcome = 'enriched' | 'failed' | 'skipped' | 'lost';

/** Thrown so BullMQ schedules the next fetch; the backoff strategy reads the delay from it. */
export class RetryEnrichmentError extends Error {
  constructor(
    readonly delayMs: number,
    message: string,
  ) {
    super(message);
    this.name = 'RetryEnrichmentError';
  }
}

/**
 * Issue 12: the step between commit and normalize for events whose source has an API credential. One fetch per
 * job, with the guarantees of a delivery: the overall deadline, the SSRF guard and keep-alive (OutboundClient),
 * retries on 5xx, 429 and network errors honouring Retry-After (HUB_ENRICHMENT_RETRY_SCHEDULE), and at most
 * HUB_ENRICHMENT_SOURCE_CONCURRENCY fetches in flight per source in this process. A job whose source is at its cap
 * waits in-process for a slot (at most `cap` waiters, each up to SOURCE_WAIT_MS), as deliveries do; past that it
 * goes back to the queue without spending a try, until the source's next free turn (BusyPacer). A backlog flows
 * slot to slot, and each queued job comes back about once, instead of bouncing through Redis until its turn.
 *
 * Whatever happens, the event goes on to normalize: with the document, or — after a 401/403, another 4xx, or the
 * last try — without it, marked `failed` with the reason, so its canonical events carry `enrichment: "failed"`.
 * Normalisation runs at once in this job's slot (one queue hop fewer per event); if it cannot run now, the
 * normalize queue takes the event.
 * Tries are counted in Postgres and each one leases the row, so a Redis flush or a dead worker strands nothing:
 * the reconciler re-enqueues pending events whose next try is due.
 */
@Processor(QueueName.Enrich, {
  autorun: false,
  settings: {
    backoffStrategy: ownDelayBackoff(RetryEnrichmentError),
  },
})
export class EnrichJob extends PipelineWorkerHost implements OnApplicationBootstrap {
  /** The delivery gate, keyed by source id here: the same in-memory per-key cap. */
  private readonly gate = new DestinationGate({
    firstGuessMs: SOURCE_FIRST_GUESS_MS,
    maxDelayMs: SOURCE_BUSY_MAX_DELAY_MS,
  });

  constructor(
    private readonly inbound: InboundEventService,
    private readonly sources: SourceService,
    private readonly connectors: ConnectorRegistry,
    private readonly enrichment: EnrichmentService,
    private readonly normalizeJob: NormalizeJob,
    private readonly metrics: MetricsService,
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
    @Inject(ROOT_LOGGER) protected readonly logger: Logger,
  ) {
    super();
  }

  onApplicationBootstrap(): void {
    this.startWorker(QueueName.Enrich, this.config.enrichmentConcurrency);
  }

  async process(job: Job<EnrichJobData>, token?: string): Promise<EnrichOutcome> {
    const { inboundEventId, sourceId } = job.data;
    const cap = this.config.enrichmentSourceConcurrency;
    const release = await this.gate.acquire(sourceId, cap, SOURCE_WAIT_MS);
    if (!release) {
      return this.postponeWhileBusy(job, token, job.data, this.gate.nextTurn(sourceId, cap));
    }
    let outcome: EnrichOutcome | undefined;
    try {
      outcome = await this.run(inboundEventId);
      return outcome;
    } finally {
      // Timed either way: the source's next free turn is booked from how long its fetches hold their slots.
      release(outcome !== undefined);
    }
  }

  /** Fetches in flight for one source in this process (tests read it). */
  inFlight(sourceId: string): number {
    return this.gate.held(sourceId);
  }

  async run(inboundEventId: string): Promise<EnrichOutcome> {
    const leaseSeconds = this.config.enrichmentTimeoutSeconds + ENRICH_LEASE_MARGIN_SECONDS;
    const event = await this.inbound.beginEnrich(inboundEventId, leaseSeconds);
    if (!event) return 'skipped';
    const schedule = this.config.enrichmentRetryScheduleSeconds;
    const source = await this.sources.find(event.sourceId);
    const connector = source && this.connectors.find(source.connector);
    const declaration = connector && this.connectors.enrichmentFor(connector, event.vendorEventType);
    const credential = source && this.sources.enrichmentCredential(source);
    if (!source || !connector || !declaration || !credential) {
      const why = !source
        ? `source ${event.sourceId} no longer exists`
        : !declaration
          ? `${source.connector} declares no enrichment for ${event.vendorEventType}`
          : `source "${source.name}" (${source.id}) has no enrichment API key any more`;
      return this.finishFailed(event, EnrichmentErrorCode.NotConfigured, why);
    }
    let payload: unknown;
    try {
      payload = JSON.parse(event.body.toString('utf8'));
    } catch {
      return this.finishFailed(event, EnrichmentErrorCode.MissingValue, 'the stored payload is not JSON');
    }

    let result: EnrichmentOutcome;
    try {
      result = await this.enrichment.fetch({
        connector,
        declaration,
        source: { id: source.id, name: source.name },
        credential,
        payload,
        deadlineMs: this.config.enrichmentTimeoutSeconds * 1000,
      });
    } catch (err) {
      // The service classifies what it knows; anything unexpected is worth another try.
      result = {
        outcome: 'retry',
        code: EnrichmentErrorCode.Network,
        reason: `enrichment error: ${(err as Error).message}`,
        durationMs: 0,
      };
    }
    this.metrics.enrichmentAttempts.inc({ connector: connector.id, outcome: result.outcome });

    if (result.outcome === 'enriched') {
      const stored = await this.inbound.finishEnrichment(event.id, {
        status: 'enriched',
        document: result.document,
        truncated: result.truncated,
        bytes: result.bytes,
      });
      if (!stored) return 'lost';
      this.logger.info(
        {
          inboundEventId: event.id,
          attempt: event.enrichmentAttempts,
          bytes: result.bytes,
          truncated: result.truncated,
        },
        'enriched',
      );
      await this.normalizeJob.runOrQueue(event.id);
      return 'enriched';
    }
    if (result.outcome === 'failed') return this.finishFailed(event, result.code, result.reason);

    const delayMs = nextDelayMs(schedule, event.enrichmentAttempts, result.retryAfterSeconds);
    if (delayMs === undefined) {
      return this.finishFailed(
        event,
        result.code,
        `gave up after ${event.enrichmentAttempts} attempts; last: ${result.reason}`,
      );
    }
    await this.inbound.scheduleEnrichmentRetry(event.id, new Date(Date.now() + delayMs), result.code, result.reason);
    this.logger.info(
      { inboundEventId: event.id, attempt: event.enrichmentAttempts, delayMs, reason: result.reason },
      'enrichment will be retried',
    );
    throw new RetryEnrichmentError(delayMs, `enrichment attempt ${event.enrichmentAttempts} failed: ${result.reason}`);
  }

  /** The event goes on without its document, flagged: failure never drops an event. */
  private async finishFailed(
    event: InboundForEnrich,
    code: EnrichmentErrorCode,
    reason: string,
  ): Promise<EnrichOutcome> {
    const stored = await this.inbound.finishEnrichment(event.id, { status: 'failed', errorCode: code, error: reason });
    if (!stored) return 'lost';
    this.metrics.enrichmentFailed.inc({ code });
    this.logger.warn({ inboundEventId: event.id, code, reason }, 'enrichment failed; normalising without it');
    await this.normalizeJob.runOrQueue(event.id);
    return 'failed';
  }

  protected override isExpectedFailure(err: Error): boolean {
    return err instanceof RetryEnrichmentError;
  }
}
