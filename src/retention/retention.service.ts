import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Logger } from 'pino';
import { ROOT_LOGGER } from '../common/logger';
import { HUB_CONFIG, HubConfig } from '../config/hub-config';
import { DeliveryService } from '../delivery/delivery.service';
import { InboundEventService } from '../ingest/inbound-event.service';
import { VerificationRejectionService } from '../ingest/verification-rejection.service';

/** Rows per statement: each statement is its own short transaction, so no lock is held for long. */
export const RETENTION_BATCH = 500;
/** Retention is about days; an hourly pass keeps each one small. */
export const RETENTION_INTERVAL_MS = 3600_000;

const DAY_MS = 24 * 3600 * 1000;

export interface RetentionPass {
  /** Inbound events whose raw body and headers were emptied. */
  payloads: number;
  /** Delivery attempts deleted. */
  attempts: number;
  /** Verification rejections deleted (GET /api/issues shows only the last 24 h of them anyway). */
  rejections: number;
  /** UPDATE/DELETE statements run (each one batch, each its own transaction). */
  statements: number;
}

/**
 * Keeps the database from growing for ever (issue 9): raw payloads and delivery attempts older than
 * HUB_RETENTION_DAYS are purged, and so are verification rejections. "Payload purged" means the inbound event's `body` becomes empty bytes and its
 * `headers` `{}`, with `purged_at` set: the row stays, so counts, the dedup key (a vendor retry is still a
 * duplicate), status, canonical events and deliveries remain. Attempts are deleted; their delivery keeps its status,
 * attempt count and last error.
 *
 * Runs in worker processes at boot and hourly. Work goes in batches of RETENTION_BATCH rows, one autocommitted
 * statement each, with FOR UPDATE SKIP LOCKED, so ingest (which only inserts new rows) and the workers never wait
 * on it; several workers may run it at once without touching the same rows.
 */
@Injectable()
export class RetentionService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopping = false;

  constructor(
    private readonly inbound: InboundEventService,
    private readonly deliveries: DeliveryService,
    private readonly rejections: VerificationRejectionService,
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.role === 'api') return;
    this.tick();
    this.timer = setInterval(() => this.tick(), RETENTION_INTERVAL_MS);
    this.timer.unref();
  }

  /** Before the database closes: no new pass, and the running one stops after its current batch. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    clearInterval(this.timer);
    await this.running;
  }

  private tick(): void {
    if (this.running) return;
    this.running = this.purge()
      .then((pass) => {
        if (pass.payloads || pass.attempts || pass.rejections) {
          this.logger.info(pass, 'retention purged old payloads, attempts and rejections');
        }
      })
      .catch((err: Error) => this.logger.warn({ err: err.message }, 'retention pass failed'))
      .finally(() => (this.running = undefined));
  }

  /** One pass: everything older than the retention period, batch after batch. */
  async purge(now = new Date(), batchSize = RETENTION_BATCH): Promise<RetentionPass> {
    const cutoff = new Date(now.getTime() - this.config.retentionDays * DAY_MS);
    const pass: RetentionPass = { payloads: 0, attempts: 0, rejections: 0, statements: 0 };
    pass.payloads = await this.inBatches(pass, () => this.inbound.purgePayloads(cutoff, batchSize), batchSize);
    pass.attempts = await this.inBatches(pass, () => this.deliveries.purgeAttempts(cutoff, batchSize), batchSize);
    pass.rejections = await this.inBatches(pass, () => this.rejections.purge(cutoff, batchSize), batchSize);
    return pass;
  }

  private async inBatches(pass: RetentionPass, batch: () => Promise<number>, batchSize: number): Promise<number> {
    let total = 0;
    while (!this.stopping) {
      const done = await batch();
      pass.statements++;
      total += done;
      if (done < batchSize) break;
      // Let ingest and the jobs of this process run between batches.
      await yieldToEventLoop();
    }
    return total;
  }
}
