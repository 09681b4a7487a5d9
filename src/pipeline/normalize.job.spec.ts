import { Test } from '@nestjs/testing';
import { DataSource, EntityManager } from 'typeorm';
import { mockMetrics, mockOf, silentLogger, testConfig } from '../../test/helpers/mocks';
import { CanonicalEventService } from '../canonical/canonical-event.service';
import { CloudEvent } from '../canonical/cloud-event';
import { ROOT_LOGGER } from '../common/logger';
import { HUB_CONFIG } from '../config/hub-config';
import { DeliveryService } from '../delivery/delivery.service';
import { DestinationService } from '../destinations/destination.service';
import { InboundEventService, NormalizeStart } from '../ingest/inbound-event.service';
import { MappingErrorCode, MappingException } from '../mappings/mapping.exception';
import { MappingPoolClosedError } from '../mappings/mapping.pool';
import { MappingService } from '../mappings/mapping.service';
import { MetricsService } from '../metrics/metrics.service';
import { RoutingService } from '../routing/routing.service';
import { DeliverJob } from './deliver.job';
import { NormalizeJob } from './normalize.job';
import { MAX_NORMALIZE_ATTEMPTS } from './pipeline.constants';
import { PipelineQueue } from './pipeline.queue';

const inboundRow = (attempts = 1, latest: NormalizeStart['latest'] = null): NormalizeStart => ({
  id: 'in_1',
  sourceId: 'src_1',
  vendorEventType: 'recording.processed',
  vendorEventId: null,
  receivedAt: new Date('2026-01-01T00:00:00Z'),
  occurredAt: null,
  test: false,
  body: Buffer.from('{"event":"recording.processed","data":{"id":"r1"}}'),
  normalizeAttempts: attempts,
  connector: 'salesask',
  latest,
  enrichmentStatus: null,
  enrichment: null,
  enrichmentError: null,
});

const event = { id: 'evt_1', type: 'activity.analyzed', subject: 'activity:salesask:r1' } as CloudEvent;
const planned = [
  { id: 'msg_1', destinationId: 'dst_1', canonicalEventId: 'evt_1', status: 'pending' as const, lastError: null },
  {
    id: 'msg_2',
    destinationId: 'dst_2',
    canonicalEventId: 'evt_1',
    status: 'failed' as const,
    lastError: 'filter failed: x',
  },
];

describe(NormalizeJob.name, () => {
  let sut: NormalizeJob;
  const manager = {} as EntityManager;
  const dataSource = mockOf<DataSource>({
    transaction: jest.fn((work: (m: EntityManager) => unknown) => work(manager)),
  });
  const inbound = mockOf<InboundEventService>({
    beginNormalize: jest.fn(),
    markFailed: jest.fn(),
    markNormalized: jest.fn(),
  });
  const mappings = mockOf<MappingService>({ mapRawVersioned: jest.fn() });
  const canonical = mockOf<CanonicalEventService>({ insert: jest.fn(), insertFirstOutput: jest.fn() });
  const deliveries = mockOf<DeliveryService>({ supersedeWaiting: jest.fn() });
  const routing = mockOf<RoutingService>({ route: jest.fn(), plan: jest.fn() });
  const destinations = mockOf<DestinationService>({ activeCached: jest.fn() });
  const queue = mockOf<PipelineQueue>({ deliver: jest.fn(), normalize: jest.fn(), normalizeLocally: jest.fn() });
  const deliverJob = mockOf<DeliverJob>({ dispatch: jest.fn(), reserve: jest.fn(), startClaimed: jest.fn() });

  beforeEach(async () => {
    jest.clearAllMocks();
    inbound.beginNormalize.mockResolvedValue(inboundRow());
    mappings.mapRawVersioned.mockResolvedValue({ events: [event], version: 'file:abc' });
    destinations.activeCached.mockResolvedValue([]);
    deliverJob.dispatch.mockImplementation(async (pending) => pending);
    deliverJob.reserve.mockResolvedValue(new Map());
    Object.defineProperty(deliverJob, 'leaseSeconds', { value: 25, configurable: true });
    routing.plan.mockResolvedValue(planned);
    canonical.insertFirstOutput.mockResolvedValue([
      { id: 'msg_1', destinationId: 'dst_1', canonicalEventId: event.id, status: 'pending' },
      { id: 'msg_2', destinationId: 'dst_2', canonicalEventId: event.id, status: 'failed' },
    ]);
    routing.route.mockResolvedValue([
      { id: 'msg_1', destinationId: 'dst_1', status: 'pending' },
      { id: 'msg_2', destinationId: 'dst_2', status: 'failed' },
    ]);
    const moduleRef = await Test.createTestingModule({
      providers: [
        NormalizeJob,
        { provide: DataSource, useValue: dataSource },
        { provide: InboundEventService, useValue: inbound },
        { provide: MappingService, useValue: mappings },
        { provide: CanonicalEventService, useValue: canonical },
        { provide: RoutingService, useValue: routing },
        { provide: DestinationService, useValue: destinations },
        { provide: DeliveryService, useValue: deliveries },
        { provide: PipelineQueue, useValue: queue },
        { provide: DeliverJob, useValue: deliverJob },
        { provide: MetricsService, useValue: mockMetrics() },
        { provide: HUB_CONFIG, useValue: testConfig() },
        { provide: ROOT_LOGGER, useValue: silentLogger },
      ],
    }).compile();
    sut = moduleRef.get(NormalizeJob);
  });

  it('stores the events with their routed deliveries in one write, then enqueues the pending deliveries', async () => {
    await expect(sut.run('in_1')).resolves.toBe('normalized');
    expect(mappings.mapRawVersioned).toHaveBeenCalledWith(
      inboundRow().body,
      expect.objectContaining({ connector: 'salesask', sourceId: 'src_1', revision: 0 }),
    );
    expect(routing.plan).toHaveBeenCalledWith(event, []);
    expect(canonical.insertFirstOutput).toHaveBeenCalledWith('in_1', [event], 'file:abc', planned, {
      ids: [],
      leaseSeconds: 25,
    });
    expect(dataSource.transaction).not.toHaveBeenCalled();
    expect(deliveries.supersedeWaiting).not.toHaveBeenCalled();
    expect(queue.deliver).toHaveBeenCalledWith([
      { id: 'msg_1', destinationId: 'dst_1', canonicalEventId: event.id, status: 'pending' },
    ]);
  });

  it('enqueues only the deliveries the deliver job did not start at once', async () => {
    deliverJob.dispatch.mockResolvedValue([]);
    await expect(sut.run('in_1')).resolves.toBe('normalized');
    expect(deliverJob.dispatch).toHaveBeenCalledWith([
      { id: 'msg_1', destinationId: 'dst_1', canonicalEventId: event.id, status: 'pending' },
    ]);
    expect(queue.deliver).toHaveBeenCalledWith([]);
  });

  it('writes the deliveries it has a slot for already claimed, and starts them without a claim', async () => {
    const release = jest.fn();
    const reserved = new Map([['msg_1', release]]);
    deliverJob.reserve.mockResolvedValue(reserved);
    const created = [{ id: 'msg_1', destinationId: 'dst_1', canonicalEventId: event.id, status: 'sending' as const }];
    canonical.insertFirstOutput.mockResolvedValue(created);
    await expect(sut.run('in_1')).resolves.toBe('normalized');
    // Only pending deliveries are offered a slot; the failed one (a broken filter) is not.
    expect(deliverJob.reserve).toHaveBeenCalledWith([planned[0]]);
    expect(canonical.insertFirstOutput).toHaveBeenCalledWith('in_1', [event], 'file:abc', planned, {
      ids: ['msg_1'],
      leaseSeconds: 25,
    });
    expect(deliverJob.startClaimed).toHaveBeenCalledWith(created, [event], reserved);
    expect(deliverJob.dispatch).toHaveBeenCalledWith([]);
  });

  it('frees the slots it reserved when the output cannot be written', async () => {
    const release = jest.fn();
    deliverJob.reserve.mockResolvedValue(new Map([['msg_1', release]]));
    canonical.insertFirstOutput.mockRejectedValueOnce(Object.assign(new Error('connection terminated'), { code: '57P01' }));
    await expect(sut.run('in_1')).rejects.toThrow();
    expect(release).toHaveBeenCalledTimes(1);
    expect(deliverJob.startClaimed).not.toHaveBeenCalled();
  });

  describe('straight from ingest (tryInline)', () => {
    const settle = () => new Promise((resolve) => setImmediate(resolve));

    it('runs the event in this process, up to HUB_NORMALIZE_CONCURRENCY at once, then declines', async () => {
      const finishers: (() => void)[] = [];
      inbound.beginNormalize.mockImplementation(
        () => new Promise((resolve) => finishers.push(() => resolve(inboundRow()))),
      );
      const cap = testConfig().normalizeConcurrency;
      const taken = Array.from({ length: cap + 1 }, (_, i) => sut.tryInline(`in_${i}`));
      expect(taken).toEqual([...Array(cap).fill(true), false]);
      finishers.forEach((finish) => finish());
      await sut.drainInline();
      expect(canonical.insertFirstOutput).toHaveBeenCalledTimes(cap);
      expect(queue.normalize).not.toHaveBeenCalled();
    });

    it('hands a run that cannot finish to the queue', async () => {
      inbound.beginNormalize.mockRejectedValue(new Error('connect ECONNREFUSED 127.0.0.1:5432'));
      expect(sut.tryInline('in_1')).toBe(true);
      await settle();
      await sut.drainInline();
      expect(queue.normalize).toHaveBeenCalledWith(['in_1']);
    });

    it('runOrQueue (also used by the enrich job) queues the normalisation when it cannot run now', async () => {
      inbound.beginNormalize.mockRejectedValue(new Error('connect ECONNREFUSED 127.0.0.1:5432'));
      await expect(sut.runOrQueue('in_1')).resolves.toBeUndefined();
      expect(queue.normalize).toHaveBeenCalledWith(['in_1']);
    });

    it('takes nothing once shutdown has begun', async () => {
      await sut.drainInline();
      expect(sut.tryInline('in_1')).toBe(false);
      expect(inbound.beginNormalize).not.toHaveBeenCalled();
    });
  });

  it('fails an event whose source no longer exists', async () => {
    inbound.beginNormalize.mockResolvedValue({ ...inboundRow(), connector: null });
    await expect(sut.run('in_1')).resolves.toBe('failed');
    expect(inbound.markFailed).toHaveBeenCalledWith('in_1', 'source src_1 no longer exists');
    expect(mappings.mapRawVersioned).not.toHaveBeenCalled();
  });

  it('re-normalised to the same output: stores nothing and delivers nothing again', async () => {
    inbound.beginNormalize.mockResolvedValue(inboundRow(1, { revision: 0, events: [event] }));
    mappings.mapRawVersioned.mockResolvedValue({ events: [{ ...event, id: 'evt_rev1' }], version: 'file:abc' });
    await expect(sut.run('in_1')).resolves.toBe('normalized');
    expect(mappings.mapRawVersioned).toHaveBeenCalledWith(expect.anything(), expect.objectContaining({ revision: 1 }));
    expect(canonical.insert).not.toHaveBeenCalled();
    expect(routing.route).not.toHaveBeenCalled();
    expect(inbound.markNormalized).toHaveBeenCalledWith(manager, 'in_1');
    expect(queue.deliver).toHaveBeenCalledWith([]);
  });

  it('re-normalised to a different output: stores the next revision, supersedes the old one, routes the new', async () => {
    inbound.beginNormalize.mockResolvedValue(inboundRow(1, { revision: 2, events: [event] }));
    const corrected = { ...event, id: 'evt_rev3', subject: 'activity:salesask:r2' } as CloudEvent;
    mappings.mapRawVersioned.mockResolvedValue({ events: [corrected], version: 'override:2' });
    await expect(sut.run('in_1')).resolves.toBe('normalized');
    expect(mappings.mapRawVersioned).toHaveBeenCalledWith(expect.anything(), expect.objectContaining({ revision: 3 }));
    expect(canonical.insert).toHaveBeenCalledWith(manager, 'in_1', [corrected], {
      revision: 3,
      mappingVersion: 'override:2',
    });
    expect(deliveries.supersedeWaiting).toHaveBeenCalledWith(manager, ['evt_1'], 'replaced by revision 3');
    expect(routing.route).toHaveBeenCalledWith(manager, corrected, []);
    expect(queue.deliver).toHaveBeenCalledWith([{ id: 'msg_1', destinationId: 'dst_1', status: 'pending' }]);
  });

  it('skips an event that is no longer waiting', async () => {
    inbound.beginNormalize.mockResolvedValue(null);
    await expect(sut.run('in_1')).resolves.toBe('skipped');
    expect(mappings.mapRawVersioned).not.toHaveBeenCalled();
  });

  it('fails an event with the mapping’s reason, and writes nothing', async () => {
    mappings.mapRawVersioned.mockRejectedValue(
      new MappingException(MappingErrorCode.Bounds, 'nests deeper than 64 levels'),
    );
    await expect(sut.run('in_1')).resolves.toBe('failed');
    expect(inbound.markFailed).toHaveBeenCalledWith('in_1', 'nests deeper than 64 levels');
    expect(canonical.insertFirstOutput).not.toHaveBeenCalled();
    expect(dataSource.transaction).not.toHaveBeenCalled();
  });

  it('gives up on an event past its try budget, whatever killed the earlier tries', async () => {
    inbound.beginNormalize.mockResolvedValue(inboundRow(MAX_NORMALIZE_ATTEMPTS + 1));
    await expect(sut.run('in_1')).resolves.toBe('failed');
    expect(inbound.markFailed).toHaveBeenCalledWith(
      'in_1',
      `gave up after ${MAX_NORMALIZE_ATTEMPTS} normalisation attempts`,
    );
    expect(mappings.mapRawVersioned).not.toHaveBeenCalled();
  });

  it('fails an event whose output Postgres refuses (not an outage), with the reason', async () => {
    canonical.insertFirstOutput.mockRejectedValueOnce(
      Object.assign(new Error('index row requires 12024 bytes, maximum size is 8191'), { code: '54000' }),
    );
    await expect(sut.run('in_1')).resolves.toBe('failed');
    expect(inbound.markFailed).toHaveBeenCalledWith(
      'in_1',
      'normalisation failed while storing its canonical events: index row requires 12024 bytes, maximum size is 8191',
    );
  });

  it('rethrows an outage so BullMQ retries, and fails nothing', async () => {
    const outage = Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' });
    canonical.insertFirstOutput.mockRejectedValueOnce(outage);
    await expect(sut.run('in_1')).rejects.toBe(outage);
    expect(inbound.markFailed).not.toHaveBeenCalled();
  });

  it('rethrows when the mapping pool is closing: the event is not at fault', async () => {
    mappings.mapRawVersioned.mockRejectedValue(new MappingPoolClosedError());
    await expect(sut.run('in_1')).rejects.toBeInstanceOf(MappingPoolClosedError);
    expect(inbound.markFailed).not.toHaveBeenCalled();
  });
});
