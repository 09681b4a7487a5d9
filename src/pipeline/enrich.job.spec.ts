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
import { EnrichJobData, PipelineQueue } from './pipeline.queue';

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
  const queue = mockOf<PipelineQueue>({ normalize: jest.fn() });
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
        { provide: PipelineQueue, useValue: queue },
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

  it('stores the document and hands the event to normalize', async () => {
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
    expect(queue.normalize).toHaveBeenCalledWith(['in_1']);
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
    expect(queue.normalize).not.toHaveBeenCalled();
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
    expect(queue.normalize).toHaveBeenCalledWith(['in_1']);
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
    expect(queue.normalize).toHaveBeenCalledWith(['in_1']);
  });

  it('skips an event that no longer waits for enrichment', async () => {
    inbound.beginEnrich.mockResolvedValue(null);
    await expect(sut.run('in_1')).resolves.toBe('skipped');
    expect(enrichment.fetch).not.toHaveBeenCalled();
  });

  it('holds a source to its cap: a second job waits without a fetch or a spent attempt', async () => {
    let finish!: () => void;
    enrichment.fetch.mockImplementation(
      () =>
        new Promise((resolve) => {
          finish = () =>
            resolve({ outcome: 'failed', code: EnrichmentErrorCode.Rejected, reason: 'HTTP 404', durationMs: 1 });
        }),
    );
    const job = () =>
      mockOf<Job<EnrichJobData>>({
        updateData: jest.fn(),
        moveToDelayed: jest.fn(),
      }) as unknown as Job<EnrichJobData> & {
        updateData: jest.Mock;
        moveToDelayed: jest.Mock;
      };
    const first = Object.assign(job(), { data: { inboundEventId: 'in_1', sourceId: 'src_1' } });
    const second = Object.assign(job(), { data: { inboundEventId: 'in_2', sourceId: 'src_1' } });
    const running = sut.process(first, 'token');
    await new Promise((r) => setImmediate(r));
    expect(sut.inFlight('src_1')).toBe(1);

    await expect(sut.process(second, 'token')).rejects.toBeInstanceOf(DelayedError);
    expect(second.moveToDelayed).toHaveBeenCalledTimes(1);
    expect(second.updateData).toHaveBeenCalledWith({ inboundEventId: 'in_2', sourceId: 'src_1', waits: 1 });
    expect(enrichment.fetch).toHaveBeenCalledTimes(1);

    finish();
    await expect(running).resolves.toBe('failed');
    expect(sut.inFlight('src_1')).toBe(0);
  });
});
