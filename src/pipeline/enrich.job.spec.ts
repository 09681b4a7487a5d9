import { Test } from '@nestjs/testing';
import { DelayedError, Job } from 'bullmq';
import { mockMetrics, mockOf, silentLogger, testConfig } from '../../test/helpers/mocks';
import { ROOT_LOGGER } from '../common/logger';
import { HUB_CONFIG } from '../config/hub-config';
import { ConnectorRegistry } from '../connectors/connector.registry';
import { EnrichmentErrorCode, EnrichmentService } from '../enrichment/enrichment.service';
import { InboundEventService, InboundForEnrich } from '../ingest/inbound-event.service';
import { MetricsService } from '../metrics/metrics.service';
import { SourceService } from '../sources/source.service';
import { EnrichJob, RetryEnrichmentError } from './enrich.job';
import { NormalizeJob } from './normalize.job';
import { EnrichJobData } from './pipeline.queue';

const row = (attempts = 1): InboundForEnrich => ({
  id: 'in_1',
  sourceId: 'src_1',
  vendorEventType: 'recording.processed',
  body: Buffer.from('{"event":"recording.processed","data":{"id":"r1"}}'),
  enrichmentAttempts: attempts,
});

describe(EnrichJob.name, () => {
  let sut: EnrichJob;
  const inbound = mockOf<InboundEventService>({
    beginEnrich: jest.fn(),
    finishEnrichment: jest.fn(),
    scheduleEnrichmentRetry: jest.fn(),
  });
  const sources = mockOf<SourceService>({ find: jest.fn(), enrichmentCredential: jest.fn() });
  const enrichment = mockOf<EnrichmentService>({ fetch: jest.fn() });
  const normalizeJob = mockOf<NormalizeJob>({ runOrQueue: jest.fn() });
  const connectors = new ConnectorRegistry();

  beforeEach(async () => {
    jest.clearAllMocks();
    inbound.beginEnrich.mockResolvedValue(row());
    inbound.finishEnrichment.mockResolvedValue(true);
    sources.find.mockResolvedValue({ id: 'src_1', name: 'Sales Ask EMEA', connector: 'salesask' } as never);
    sources.enrichmentCredential.mockReturnValue({ apiKey: 'key' });
    const moduleRef = await Test.createTestingModule({
      providers: [
        EnrichJob,
        { provide: InboundEventService, useValue: inbound },
        { provide: SourceService, useValue: sources },
        { provide: ConnectorRegistry, useValue: connectors },
        { provide: EnrichmentService, useValue: enrichment },
        { provide: NormalizeJob, useValue: normalizeJob },
        { provide: MetricsService, useValue: mockMetrics() },
        // Three tries, one fetch per source at a time.
        {
          provide: HUB_CONFIG,
          useValue: testConfig({ HUB_ENRICHMENT_RETRY_SCHEDULE: '0,5,30', HUB_ENRICHMENT_SOURCE_CONCURRENCY: '1' }),
        },
        { provide: ROOT_LOGGER, useValue: silentLogger },
      ],
    }).compile();
    sut = moduleRef.get(EnrichJob);
  });

  it('stores the document and normalises the event in the same slot', async () => {
    enrichment.fetch.mockResolvedValue({
      outcome: 'enriched',
      document: { recording: { id: 'r1' } },
      truncated: false,
      bytes: 12,
      durationMs: 3,
    });
    await expect(sut.run('in_1')).resolves.toBe('enriched');
    expect(enrichment.fetch).toHaveBeenCalledWith(
      expect.objectContaining({ payload: { event: 'recording.processed', data: { id: 'r1' } }, deadlineMs: 15_000 }),
    );
    expect(inbound.finishEnrichment).toHaveBeenCalledWith('in_1', {
      status: 'enriched',
      document: { recording: { id: 'r1' } },
      truncated: false,
      bytes: 12,
    });
    expect(normalizeJob.runOrQueue).toHaveBeenCalledWith('in_1');
  });

  it('schedules a retry no sooner than Retry-After and records why', async () => {
    enrichment.fetch.mockResolvedValue({
      outcome: 'retry',
      code: EnrichmentErrorCode.Throttled,
      reason: 'Sales Ask API answered HTTP 429',
      retryAfterSeconds: 60,
      durationMs: 3,
    });
    const error = await sut.run('in_1').catch((err: unknown) => err);
    expect(error).toBeInstanceOf(RetryEnrichmentError);
    // The schedule says 5 s ± 20 %; the vendor asked for 60 s.
    expect((error as RetryEnrichmentError).delayMs).toBe(60_000);
    expect(inbound.scheduleEnrichmentRetry).toHaveBeenCalledWith(
      'in_1',
      expect.any(Date),
      'throttled',
      'Sales Ask API answered HTTP 429',
    );
    expect(normalizeJob.runOrQueue).not.toHaveBeenCalled();
  });

  it('after the last try, fails with the last reason and normalises without the document', async () => {
    inbound.beginEnrich.mockResolvedValue(row(3));
    enrichment.fetch.mockResolvedValue({
      outcome: 'retry',
      code: EnrichmentErrorCode.TimedOut,
      reason: 'timed out after 15000 ms',
      durationMs: 15_000,
    });
    await expect(sut.run('in_1')).resolves.toBe('failed');
    expect(inbound.finishEnrichment).toHaveBeenCalledWith('in_1', {
      status: 'failed',
      errorCode: 'timed_out',
      error: 'gave up after 3 attempts; last: timed out after 15000 ms',
    });
    expect(normalizeJob.runOrQueue).toHaveBeenCalledWith('in_1');
  });

  it('a source whose key was removed meanwhile goes on without enrichment, saying so', async () => {
    sources.enrichmentCredential.mockReturnValue(undefined);
    await expect(sut.run('in_1')).resolves.toBe('failed');
    expect(enrichment.fetch).not.toHaveBeenCalled();
    expect(inbound.finishEnrichment).toHaveBeenCalledWith('in_1', {
      status: 'failed',
      errorCode: 'not_configured',
      error: 'source "Sales Ask EMEA" (src_1) has no enrichment API key any more',
    });
    expect(normalizeJob.runOrQueue).toHaveBeenCalledWith('in_1');
  });

  it('skips an event that no longer waits for enrichment', async () => {
    inbound.beginEnrich.mockResolvedValue(null);
    await expect(sut.run('in_1')).resolves.toBe('skipped');
    expect(enrichment.fetch).not.toHaveBeenCalled();
  });

  it('holds a source to its cap: one job waits in-process for the slot, the next goes back to the queue', async () => {
    const finishers: (() => void)[] = [];
    enrichment.fetch.mockImplementation(
      () =>
        new Promise((resolve) => {
          finishers.push(() =>
            resolve({ outcome: 'failed', code: EnrichmentErrorCode.Rejected, reason: 'HTTP 404', durationMs: 1 }),
          );
        }),
    );
    const job = (inboundEventId: string) =>
      Object.assign(
        mockOf<Job<EnrichJobData>>({
          updateData: jest.fn(),
          moveToDelayed: jest.fn(),
        }) as unknown as Job<EnrichJobData> & {
          updateData: jest.Mock;
          moveToDelayed: jest.Mock;
        },
        { data: { inboundEventId, sourceId: 'src_1' } },
      );
    const [first, second, third] = [job('in_1'), job('in_2'), job('in_3')];
    const tick = () => new Promise((r) => setImmediate(r));
    const running = sut.process(first, 'token');
    await tick();
    expect(sut.inFlight('src_1')).toBe(1);

    // The cap is 1: the second job waits here for the slot, without a fetch or a trip through Redis.
    const waiting = sut.process(second, 'token');
    await tick();
    expect(second.moveToDelayed).not.toHaveBeenCalled();
    // One waiter per slot: the third goes back to the queue, spending no attempt.
    await expect(sut.process(third, 'token')).rejects.toBeInstanceOf(DelayedError);
    expect(third.moveToDelayed).toHaveBeenCalledTimes(1);
    expect(third.updateData).toHaveBeenCalledWith({ inboundEventId: 'in_3', sourceId: 'src_1', waits: 1 });
    expect(enrichment.fetch).toHaveBeenCalledTimes(1);

    // The first fetch ends, and its slot goes straight to the waiter.
    finishers[0]();
    await expect(running).resolves.toBe('failed');
    await tick();
    expect(enrichment.fetch).toHaveBeenCalledTimes(2);
    expect(sut.inFlight('src_1')).toBe(1);
    finishers[1]();
    await expect(waiting).resolves.toBe('failed');
    expect(second.moveToDelayed).not.toHaveBeenCalled();
    expect(sut.inFlight('src_1')).toBe(0);
  });
});
