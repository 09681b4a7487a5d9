import { Test } from '@nestjs/testing';
import { DelayedError, Job } from 'bullmq';
import { mockMetrics, mockOf, silentLogger, testConfig } from '../../test/helpers/mocks';
import { CloudEvent } from '../canonical/cloud-event';
import { ROOT_LOGGER } from '../common/logger';
import { HUB_CONFIG } from '../config/hub-config';
import { ClaimedDelivery, DeliveryService } from '../delivery/delivery.service';
import { DestinationEntity } from '../destinations/destination.entity';
import { DestinationService } from '../destinations/destination.service';
import { MetricsService } from '../metrics/metrics.service';
import { AdapterOutcome, DestinationAdapter } from '../destinations/adapters/destination-adapter';
import { DestinationAdapters } from '../destinations/adapters/destination-adapters';
import { DeliverJob } from './deliver.job';
import { DeliverJobData, PipelineQueue } from './pipeline.queue';
import { DISPATCH_WAIT_MS } from './pipeline.constants';
import { RetryDeliveryError } from './retry-policy';

const claimed: ClaimedDelivery = { id: 'msg_1', destinationId: 'dst_1', canonicalEventId: 'evt_1', attempts: 1 };
const destination = {
  id: 'dst_1',
  type: 'webhook',
  url: 'https://receiver.example/hook',
  status: 'active',
  retrySchedule: [0, 5, 300],
} as DestinationEntity;

/** A BullMQ job as the worker hands it over: its data, and the calls a waiting job makes. */
function jobFor(deliveryId: string, destinationId: string): jest.Mocked<Job<DeliverJobData>> {
  return Object.assign(mockOf<Job<DeliverJobData>>({ moveToDelayed: jest.fn(), updateData: jest.fn() }), {
    data: { deliveryId, destinationId },
  });
}

const claimedWith = {
  kind: 'claimed' as const,
  event: { id: 'evt_1', type: 'activity.completed' } as CloudEvent,
  destinationActive: true,
};

describe(DeliverJob.name, () => {
  let sut: DeliverJob;
  const deliveries = mockOf<DeliveryService>({ claim: jest.fn(), record: jest.fn(), destinationOf: jest.fn() });
  const destinations = mockOf<DestinationService>({
    find: jest.fn(),
    findCached: jest.fn(),
    openConfig: jest.fn(),
    disable: jest.fn(),
  });
  const adapter = mockOf<DestinationAdapter>({ deliver: jest.fn() });
  const queue = mockOf<PipelineQueue>({ deliver: jest.fn() });
  const adapters = mockOf<DestinationAdapters>({ get: jest.fn(() => adapter) });
  const answer = (result: AdapterOutcome) => adapter.deliver.mockResolvedValue(result);

  beforeEach(async () => {
    jest.clearAllMocks();
    deliveries.claim.mockResolvedValue({ ...claimedWith, delivery: claimed });
    deliveries.record.mockResolvedValue(true);
    destinations.find.mockResolvedValue(destination);
    destinations.findCached.mockResolvedValue(destination);
    const moduleRef = await Test.createTestingModule({
      providers: [
        DeliverJob,
        { provide: DeliveryService, useValue: deliveries },
        { provide: DestinationService, useValue: destinations },
        { provide: DestinationAdapters, useValue: adapters },
        { provide: PipelineQueue, useValue: queue },
        { provide: MetricsService, useValue: mockMetrics() },
        { provide: HUB_CONFIG, useValue: testConfig({ HUB_DESTINATION_CONCURRENCY: '2', HUB_DELIVERY_TIMEOUT: '7' }) },
        { provide: ROOT_LOGGER, useValue: silentLogger },
      ],
    }).compile();
    sut = moduleRef.get(DeliverJob);
  });

  it('hands the claimed delivery to its adapter within the deadline, then records the success under its lease', async () => {
    answer({ outcome: 'succeeded', statusCode: 204, durationMs: 5 });
    await expect(sut.run('msg_1')).resolves.toBe('succeeded');
    expect(adapter.deliver).toHaveBeenCalledWith(
      expect.objectContaining({ delivery: claimed, destination, deadlineMs: 7000 }),
    );
    expect(deliveries.claim).toHaveBeenCalledWith('msg_1', 17);
    expect(deliveries.record).toHaveBeenCalledWith(
      claimed,
      expect.objectContaining({ outcome: 'succeeded', statusCode: 204 }),
    );
  });

  it('schedules a retry, honouring the receiver’s wait, and throws the delay for BullMQ', async () => {
    answer({ outcome: 'retry', reason: 'HTTP 503', afterMs: 9000, statusCode: 503, durationMs: 5 });
    const failure = await sut.run('msg_1').catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(RetryDeliveryError);
    expect((failure as RetryDeliveryError).delayMs).toBeGreaterThanOrEqual(9000);
    expect(deliveries.record).toHaveBeenCalledWith(
      claimed,
      expect.objectContaining({ outcome: 'retry', error: 'HTTP 503', nextAttemptAt: expect.any(Date) }),
    );
  });

  it('records nothing more and schedules nothing once its lease was lost', async () => {
    answer({ outcome: 'retry', reason: 'HTTP 500', durationMs: 5 });
    deliveries.record.mockResolvedValue(false);
    await expect(sut.run('msg_1')).resolves.toBe('lost-lease');
  });

  it('disables the destination when the adapter says so', async () => {
    answer({ outcome: 'failed', reason: 'HTTP 410', disable: '410 Gone', statusCode: 410, durationMs: 5 });
    await expect(sut.run('msg_1')).resolves.toBe('failed');
    expect(destinations.disable).toHaveBeenCalledWith('dst_1', '410 Gone');
  });

  it('fails, supersedes or skips unchanged at once, without a retry', async () => {
    answer({
      outcome: 'failed',
      reason: 'INVALID_FIELD: Email: invalid email address',
      statusCode: 400,
      durationMs: 5,
    });
    await expect(sut.run('msg_1')).resolves.toBe('failed');
    answer({ outcome: 'superseded', reason: 'a newer state was applied', durationMs: 1 });
    await expect(sut.run('msg_1')).resolves.toBe('superseded');
    answer({ outcome: 'unchanged', reason: 'same payload as the last applied', durationMs: 1 });
    await expect(sut.run('msg_1')).resolves.toBe('unchanged');
    expect(deliveries.record).toHaveBeenLastCalledWith(claimed, expect.objectContaining({ outcome: 'unchanged' }));
  });

  it('ends exhausted after the last scheduled attempt', async () => {
    answer({ outcome: 'retry', reason: 'timed out after 7000 ms', durationMs: 7000 });
    deliveries.claim.mockResolvedValue({ ...claimedWith, delivery: { ...claimed, attempts: 3 } });
    await expect(sut.run('msg_1')).resolves.toBe('exhausted');
  });

  it('counts the schedule from the last manual retry, so a retried exhausted delivery gets it all again', async () => {
    answer({ outcome: 'retry', reason: 'timed out after 7000 ms', durationMs: 7000 });
    deliveries.claim.mockResolvedValue({ ...claimedWith, delivery: { ...claimed, attempts: 4, retryBase: 3 } });
    await expect(sut.run('msg_1')).rejects.toBeInstanceOf(RetryDeliveryError);
    deliveries.claim.mockResolvedValue({ ...claimedWith, delivery: { ...claimed, attempts: 6, retryBase: 3 } });
    await expect(sut.run('msg_1')).resolves.toBe('exhausted');
  });

  it('retries an adapter that threw, recording why', async () => {
    adapter.deliver.mockRejectedValue(new Error('unexpected'));
    await expect(sut.run('msg_1')).rejects.toBeInstanceOf(RetryDeliveryError);
    expect(deliveries.record).toHaveBeenCalledWith(
      claimed,
      expect.objectContaining({ error: 'adapter error: unexpected' }),
    );
  });

  it('fails the delivery without sending when the claim finds the destination disabled, whatever the cache says', async () => {
    deliveries.claim.mockResolvedValue({ ...claimedWith, delivery: claimed, destinationActive: false });
    await expect(sut.run('msg_1')).resolves.toBe('failed');
    expect(adapter.deliver).not.toHaveBeenCalled();
    expect(deliveries.record).toHaveBeenCalledWith(
      claimed,
      expect.objectContaining({ outcome: 'failed', error: 'destination is disabled' }),
    );
  });

  it('reads the destination again when its cached copy is older than a re-enable', async () => {
    destinations.findCached.mockResolvedValue({ ...destination, status: 'disabled' } as DestinationEntity);
    answer({ outcome: 'succeeded', statusCode: 200, durationMs: 1 });
    await expect(sut.run('msg_1')).resolves.toBe('succeeded');
    expect(destinations.find).toHaveBeenCalledWith('dst_1');
  });

  it('fails the delivery when its canonical event no longer exists', async () => {
    deliveries.claim.mockResolvedValue({ ...claimedWith, delivery: claimed, event: undefined });
    await expect(sut.run('msg_1')).resolves.toBe('failed');
    expect(adapter.deliver).not.toHaveBeenCalled();
  });

  it('skips a delivery another worker holds or finished', async () => {
    deliveries.claim.mockResolvedValue({ kind: 'gone' });
    await expect(sut.run('msg_1')).resolves.toBe('skipped');
    expect(adapter.deliver).not.toHaveBeenCalled();
  });

  it('makes a destination at its cap wait without spending an attempt, and lets other destinations through', async () => {
    let finish!: (result: AdapterOutcome) => void;
    adapter.deliver.mockReturnValue(new Promise<AdapterOutcome>((resolve) => (finish = resolve)));
    const inFlight = [1, 2].map((i) => sut.process(jobFor(`msg_${i}`, 'dst_1')));
    await new Promise((resolve) => setImmediate(resolve));

    const third = jobFor('msg_3', 'dst_1');
    await expect(sut.process(third, 'token')).rejects.toBeInstanceOf(DelayedError);
    expect(third.moveToDelayed).toHaveBeenCalledWith(expect.any(Number), 'token');
    expect(third.updateData).toHaveBeenCalledWith({ deliveryId: 'msg_3', destinationId: 'dst_1', waits: 1 });
    expect(deliveries.claim).toHaveBeenCalledTimes(2);

    const other = jobFor('msg_4', 'dst_2');
    const otherRun = sut.process(other);
    await new Promise((resolve) => setImmediate(resolve));
    expect(deliveries.claim).toHaveBeenCalledTimes(3);

    finish({ outcome: 'succeeded', statusCode: 200, durationMs: 1 });
    await Promise.all([...inFlight, otherRun]);
    // The slots are free again.
    const later = jobFor('msg_3', 'dst_1');
    await expect(sut.process(later)).resolves.toBe('succeeded');
  });

  it('starts first attempts at once while the destination has free slots; the rest wait for a slot in-process', async () => {
    let finish!: (result: AdapterOutcome) => void;
    adapter.deliver.mockReturnValue(new Promise<AdapterOutcome>((resolve) => (finish = resolve)));
    const pending = [1, 2, 3].map((i) => ({ id: `msg_${i}`, destinationId: 'dst_1' }));
    await expect(sut.dispatch(pending)).resolves.toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    // HUB_DESTINATION_CONCURRENCY is 2: the third waits for a slot, unclaimed.
    expect(deliveries.claim).toHaveBeenCalledTimes(2);
    finish({ outcome: 'succeeded', statusCode: 200, durationMs: 1 });
    await sut.drainInline();
    expect(deliveries.claim).toHaveBeenCalledTimes(3);
    expect(deliveries.record).toHaveBeenCalledTimes(3);
    expect(queue.deliver).not.toHaveBeenCalled();
  });

  it('sends a delivery that found no slot within DISPATCH_WAIT_MS to the queue, for its destination’s next turn', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick'] });
    try {
      adapter.deliver.mockReturnValue(new Promise<AdapterOutcome>(() => undefined));
      const pending = [1, 2, 3].map((i) => ({ id: `msg_${i}`, destinationId: 'dst_1' }));
      await sut.dispatch(pending);
      await new Promise((resolve) => setImmediate(resolve));
      await jest.advanceTimersByTimeAsync(DISPATCH_WAIT_MS);
      expect(queue.deliver).toHaveBeenCalledWith([pending[2]], expect.any(Number));
      expect(queue.deliver.mock.calls[0][1]).toBeGreaterThan(0);
      expect(deliveries.claim).toHaveBeenCalledTimes(2);
    } finally {
      jest.useRealTimers();
    }
  });

  it('hands deliveries back for the queue once HUB_DELIVERY_CONCURRENCY are started in-process', async () => {
    adapter.deliver.mockReturnValue(new Promise<AdapterOutcome>(() => undefined));
    const pending = Array.from({ length: 101 }, (_, i) => ({ id: `msg_${i}`, destinationId: `dst_${i}` }));
    // The default HUB_DELIVERY_CONCURRENCY is 100.
    await expect(sut.dispatch(pending)).resolves.toEqual([pending[100]]);
  });

  it('sends a first attempt that must be retried to the queue with its delay', async () => {
    answer({ outcome: 'retry', reason: 'HTTP 503', afterMs: 9000, statusCode: 503, durationMs: 5 });
    await expect(sut.dispatch([{ id: 'msg_1', destinationId: 'dst_1' }])).resolves.toEqual([]);
    await sut.drainInline();
    expect(queue.deliver).toHaveBeenCalledWith([{ id: 'msg_1', destinationId: 'dst_1' }], expect.any(Number));
    expect(queue.deliver.mock.calls[0][1]).toBeGreaterThanOrEqual(9000);
  });

  it('reserves slots for deliveries about to be written claimed, and starts them without a claim statement', async () => {
    answer({ outcome: 'succeeded', statusCode: 200, durationMs: 1 });
    const planned = [1, 2, 3].map((i) => ({ id: `msg_${i}`, destinationId: 'dst_1' }));
    // HUB_DESTINATION_CONCURRENCY is 2.
    const reserved = await sut.reserve(planned);
    expect([...reserved.keys()]).toEqual(['msg_1', 'msg_2']);
    const event = { id: 'evt_1' } as CloudEvent;
    sut.startClaimed(
      [
        { id: 'msg_1', destinationId: 'dst_1', canonicalEventId: 'evt_1', status: 'sending' },
        // msg_2 existed already (a second run of the same normalisation): its slot is freed, nothing is sent.
        { id: 'msg_3', destinationId: 'dst_1', canonicalEventId: 'evt_1', status: 'pending' },
      ],
      [event],
      reserved,
    );
    // msg_2's slot is free again at once, unused: one slot held (msg_1's attempt), one free, the limit unchanged.
    await expect(sut.reserve([{ id: 'msg_4', destinationId: 'dst_1' }])).resolves.toHaveProperty('size', 1);
    await sut.drainInline();
    expect(deliveries.claim).not.toHaveBeenCalled();
    expect(adapter.deliver).toHaveBeenCalledTimes(1);
    expect(adapter.deliver).toHaveBeenCalledWith(
      expect.objectContaining({ delivery: expect.objectContaining({ id: 'msg_1', attempts: 1 }), event }),
    );
    expect(deliveries.record).toHaveBeenCalledWith(
      expect.objectContaining({ id: 'msg_1', attempts: 1 }),
      expect.objectContaining({ outcome: 'succeeded' }),
    );
  });

  it('starts nothing once shutting down', async () => {
    await sut.drainInline();
    const pending = [{ id: 'msg_1', destinationId: 'dst_1' }];
    await expect(sut.dispatch(pending)).resolves.toEqual(pending);
  });
});
