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
import {
  MAX_NORMALIZE_ATTEMPTS,
  NORMALIZE_MAX_WAITERS,
  NORMALIZE_RETRY_SECONDS,
  NORMALIZE_WAIT_MS,
  NORMALIZE_WAITER_MAX_BYTES,
  PREPARE_TASKS_PER_THREAD,
  PREPARE_WAIT_MS,
} from './pipeline.constants';
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
    pullWaiting: jest.fn(),
    markFailed: jest.fn(),
    markNormalized: jest.fn(),
  });
  const mappings = mockOf<MappingService>({ mapRawVersioned: jest.fn(), mapRawSoon: jest.fn() });
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
    mappings.mapRawSoon.mockResolvedValue({ events: [event], version: 'file:abc' });
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
    canonical.insertFirstOutput.mockRejectedValueOnce(
      Object.assign(new Error('connection terminated'), { code: '57P01' }),
    );
    await expect(sut.run('in_1')).rejects.toThrow();
    expect(release).toHaveBeenCalledTimes(1);
    expect(deliverJob.startClaimed).not.toHaveBeenCalled();
  });

  describe('straight from ingest (claimInline)', () => {
    const settle = () => new Promise((resolve) => setImmediate(resolve));
    const cap = testConfig().normalizeConcurrency;
    const stored = (i: number) => ({ ...inboundRow(), id: `in_${i}` });
    /** Holds every mapping until released, in call order. */
    const holdMappings = () => {
      const finishers: (() => void)[] = [];
      mappings.mapRawVersioned.mockImplementation(
        () => new Promise((resolve) => finishers.push(() => resolve({ events: [event], version: 'file:abc' }))),
      );
      return finishers;
    };

    it('normalises the stored event here without counting its try again', async () => {
      sut.claimInline(100)!.start(stored(1));
      await sut.drainInline();
      expect(inbound.beginNormalize).not.toHaveBeenCalled();
      expect(mappings.mapRawVersioned).toHaveBeenCalledWith(
        inboundRow().body,
        expect.objectContaining({ inboundEventId: 'in_1', revision: 0 }),
      );
      expect(canonical.insertFirstOutput).toHaveBeenCalledTimes(1);
      expect(queue.normalize).not.toHaveBeenCalled();
    });

    it('runs HUB_NORMALIZE_CONCURRENCY at once; the next waits for a slot, then runs in arrival order', async () => {
      const finishers = holdMappings();
      for (let i = 0; i <= cap; i++) sut.claimInline(100)!.start(stored(i));
      await settle();
      expect(mappings.mapRawVersioned).toHaveBeenCalledTimes(cap);
      finishers[0]();
      await settle();
      expect(mappings.mapRawVersioned).toHaveBeenCalledTimes(cap + 1);
      expect(mappings.mapRawVersioned.mock.calls[cap][1]).toMatchObject({ inboundEventId: `in_${cap}` });
      finishers.forEach((finish) => finish());
      await sut.drainInline();
      expect(canonical.insertFirstOutput).toHaveBeenCalledTimes(cap + 1);
      expect(queue.normalize).not.toHaveBeenCalled();
    });

    it('declines once every slot and every waiting place is claimed, and a large body once every slot is', () => {
      const claims = Array.from({ length: cap }, () => sut.claimInline(NORMALIZE_WAITER_MAX_BYTES + 1));
      expect(claims.every(Boolean)).toBe(true);
      expect(sut.claimInline(NORMALIZE_WAITER_MAX_BYTES + 1)).toBeUndefined();
      const waiters = Array.from({ length: NORMALIZE_MAX_WAITERS }, () => sut.claimInline(100));
      expect(waiters.every(Boolean)).toBe(true);
      expect(sut.claimInline(100)).toBeUndefined();
      // A claim given back (a duplicate, or a store that failed) makes room again.
      waiters[0]!.cancel();
      return settle().then(() => expect(sut.claimInline(100)).toBeDefined());
    });

    it('sends an event that found no slot within NORMALIZE_WAIT_MS to the normalize queue', async () => {
      jest.useFakeTimers();
      try {
        holdMappings();
        for (let i = 0; i <= cap; i++) sut.claimInline(100)!.start(stored(i));
        await jest.advanceTimersByTimeAsync(NORMALIZE_WAIT_MS - 1);
        expect(queue.normalize).not.toHaveBeenCalled();
        await jest.advanceTimersByTimeAsync(1);
        expect(queue.normalize).toHaveBeenCalledWith([`in_${cap}`]);
        expect(mappings.mapRawVersioned).toHaveBeenCalledTimes(cap);
      } finally {
        jest.useRealTimers();
      }
    });

    it('hands a run that cannot finish to the queue', async () => {
      canonical.insertFirstOutput.mockRejectedValue(
        Object.assign(new Error('connection terminated'), { code: '57P01' }),
      );
      sut.claimInline(100)!.start(stored(1));
      await sut.drainInline();
      expect(queue.normalize).toHaveBeenCalledWith(['in_1']);
    });

    it('runOrQueue (also used by the enrich job) queues the normalisation when it cannot run now', async () => {
      inbound.beginNormalize.mockRejectedValue(new Error('connect ECONNREFUSED 127.0.0.1:5432'));
      await expect(sut.runOrQueue('in_1')).resolves.toBeUndefined();
      expect(queue.normalize).toHaveBeenCalledWith(['in_1']);
    });

    describe('its output made before it is stored (prepare)', () => {
      /** A slot's release for dst_1, reserved for msg_1. */
      const reserveFirst = () => {
        const release = jest.fn();
        deliverJob.reserve.mockResolvedValue(new Map([['msg_1', release]]));
        return release;
      };

      it('maps and routes the event, with the deliveries it has a slot for to be written claimed', async () => {
        reserveFirst();
        const output = await sut.claimInline(100)!.prepare(stored(1));
        expect(mappings.mapRawSoon).toHaveBeenCalledWith(
          inboundRow().body,
          expect.objectContaining({ inboundEventId: 'in_1', revision: 0, connector: 'salesask' }),
          { perThread: PREPARE_TASKS_PER_THREAD, waitMs: PREPARE_WAIT_MS },
        );
        expect(deliverJob.reserve).toHaveBeenCalledWith([planned[0]]);
        expect(output).toEqual({
          events: [event],
          mappingVersion: 'file:abc',
          deliveries: planned,
          claim: { ids: ['msg_1'], leaseSeconds: 25 },
        });
      });

      it('once stored with it, starts the claimed delivery and dispatches the rest, with no statement of its own', async () => {
        const release = reserveFirst();
        const claim = sut.claimInline(100)!;
        await claim.prepare(stored(1));
        claim.stored();
        await sut.drainInline();
        expect(deliverJob.startClaimed).toHaveBeenCalledWith(
          [
            { id: 'msg_1', destinationId: 'dst_1', canonicalEventId: 'evt_1', status: 'sending' },
            { id: 'msg_2', destinationId: 'dst_2', canonicalEventId: 'evt_1', status: 'failed' },
          ],
          [event],
          new Map([['msg_1', release]]),
        );
        expect(deliverJob.dispatch).toHaveBeenCalledWith([]);
        expect(mappings.mapRawVersioned).not.toHaveBeenCalled();
        expect(canonical.insertFirstOutput).not.toHaveBeenCalled();
        expect(inbound.beginNormalize).not.toHaveBeenCalled();
      });

      it('dispatches a delivery it had no slot for', async () => {
        const claim = sut.claimInline(100)!;
        await claim.prepare(stored(1));
        claim.stored();
        await sut.drainInline();
        expect(deliverJob.dispatch).toHaveBeenCalledWith([
          { id: 'msg_1', destinationId: 'dst_1', canonicalEventId: 'evt_1', status: 'pending' },
        ]);
      });

      it.each([
        [
          'the mapping pool is backed up, or the mapping is late',
          () => mappings.mapRawSoon.mockResolvedValue(undefined),
        ],
        [
          'the mapping fails',
          () => mappings.mapRawSoon.mockRejectedValue(new MappingException(MappingErrorCode.Evaluate, 'boom')),
        ],
        [
          'the destinations cannot be read',
          () => destinations.activeCached.mockRejectedValue(new Error('ECONNREFUSED')),
        ],
      ])('gives nothing when %s; the stored event is then normalised the usual way', async (_when, arrange) => {
        arrange();
        const claim = sut.claimInline(100)!;
        await expect(claim.prepare(stored(1))).resolves.toBeUndefined();
        claim.start(stored(1));
        await sut.drainInline();
        expect(mappings.mapRawVersioned).toHaveBeenCalledTimes(1);
      });

      it('gives back the slots it reserved when the event was a duplicate (cancel)', async () => {
        const release = reserveFirst();
        const claim = sut.claimInline(100)!;
        await claim.prepare(stored(1));
        claim.cancel();
        await sut.drainInline();
        expect(release).toHaveBeenCalledTimes(1);
        expect(deliverJob.startClaimed).not.toHaveBeenCalled();
      });

      it('gives back the slots it reserved when the event was stored without it, then normalises it anew', async () => {
        const release = reserveFirst();
        const claim = sut.claimInline(100)!;
        await claim.prepare(stored(1));
        deliverJob.reserve.mockResolvedValue(new Map());
        claim.start(stored(1));
        await sut.drainInline();
        expect(release).toHaveBeenCalledTimes(1);
        expect(mappings.mapRawVersioned).toHaveBeenCalledTimes(1);
        expect(canonical.insertFirstOutput).toHaveBeenCalledTimes(1);
      });
    });

    it('shutdown waits for the events claimed before it, and takes nothing after', async () => {
      const finishers = holdMappings();
      const claim = sut.claimInline(100)!;
      let drained = false;
      const drain = sut.drainInline().then(() => (drained = true));
      expect(sut.claimInline(100)).toBeUndefined();
      claim.start(stored(1));
      await settle();
      expect(drained).toBe(false);
      finishers[0]();
      await drain;
      expect(canonical.insertFirstOutput).toHaveBeenCalledTimes(1);
    });
  });

  describe('the backlog in Postgres (noteBacklog)', () => {
    const settle = () => new Promise((resolve) => setImmediate(resolve));
    const cap = testConfig().normalizeConcurrency;
    const waiting = (from: number, count: number) =>
      Array.from({ length: count }, (_, i) => ({ ...inboundRow(), id: `in_b${from + i}` }));

    it('pulls a batch as big as its budget, runs each with its try already counted, and stops at a short batch', async () => {
      inbound.pullWaiting.mockResolvedValueOnce(waiting(0, cap)).mockResolvedValueOnce(waiting(cap, 1));
      expect(sut.noteBacklog()).toBe(true);
      await settle();
      await sut.drainInline();
      expect(inbound.pullWaiting).toHaveBeenNthCalledWith(1, cap, NORMALIZE_RETRY_SECONDS);
      expect(inbound.pullWaiting).toHaveBeenCalledTimes(2);
      expect(inbound.beginNormalize).not.toHaveBeenCalled();
      expect(canonical.insertFirstOutput).toHaveBeenCalledTimes(cap + 1);
      expect(queue.normalize).not.toHaveBeenCalled();
    });

    it('pulls again only once half its budget is free', async () => {
      const finishers: (() => void)[] = [];
      mappings.mapRawVersioned.mockImplementation(
        () => new Promise((resolve) => finishers.push(() => resolve({ events: [event], version: 'file:abc' }))),
      );
      inbound.pullWaiting.mockResolvedValueOnce(waiting(0, cap)).mockResolvedValue([]);
      sut.noteBacklog();
      await settle();
      expect(finishers).toHaveLength(cap);
      for (let i = 0; i < cap / 2 - 1; i++) finishers[i]();
      await settle();
      expect(inbound.pullWaiting).toHaveBeenCalledTimes(1);
      finishers[cap / 2 - 1]();
      await settle();
      expect(inbound.pullWaiting).toHaveBeenLastCalledWith(cap / 2, NORMALIZE_RETRY_SECONDS);
      finishers.forEach((finish) => finish());
      await sut.drainInline();
    });

    it('tries again a second later when Postgres cannot answer', async () => {
      jest.useFakeTimers();
      try {
        inbound.pullWaiting.mockRejectedValueOnce(new Error('connect ECONNREFUSED')).mockResolvedValue([]);
        sut.noteBacklog();
        await jest.advanceTimersByTimeAsync(999);
        expect(inbound.pullWaiting).toHaveBeenCalledTimes(1);
        await jest.advanceTimersByTimeAsync(1);
        expect(inbound.pullWaiting).toHaveBeenCalledTimes(2);
      } finally {
        jest.useRealTimers();
      }
    });

    it('pulls nothing once shutdown has begun, and shutdown waits for what it pulled', async () => {
      let pulled!: (rows: NormalizeStart[]) => void;
      inbound.pullWaiting.mockReturnValueOnce(new Promise((resolve) => (pulled = resolve)));
      sut.noteBacklog();
      const drain = sut.drainInline();
      expect(sut.noteBacklog()).toBe(false);
      pulled(waiting(0, 2));
      await drain;
      expect(canonical.insertFirstOutput).toHaveBeenCalledTimes(2);
      expect(inbound.pullWaiting).toHaveBeenCalledTimes(1);
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
