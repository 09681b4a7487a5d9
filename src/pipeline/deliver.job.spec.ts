import { Test } from '@nestjs/testing';
import { DelayedError, Job } from 'bullmq';
import { mockMetrics, mockOf, silentLogger, testConfig } from '../../test/helpers/mocks';
import { CanonicalEventService } from '../canonical/canonical-event.service';
import { CloudEvent } from '../canonical/cloud-event';
import { ROOT_LOGGER } from '../common/logger';
import { HUB_CONFIG } from '../config/hub-config';
import { ClaimedDelivery, DeliveryService } from '../delivery/delivery.service';
import { DestinationEntity } from '../destinations/destination.entity';
import { DestinationService } from '../destinations/destination.service';
import { MetricsService } from '../metrics/metrics.service';
import { OutboundClient, OutboundErrorCode, OutboundResult } from '../outbound/outbound.client';
import { DeliverJob } from './deliver.job';
import { DeliverJobData } from './pipeline.queue';
import { RetryDeliveryError } from './retry-policy';

const claimed: ClaimedDelivery = { id: 'msg_1', destinationId: 'dst_1', canonicalEventId: 'evt_1', attempts: 1 };
const destination = {
  id: 'dst_1',
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

describe(DeliverJob.name, () => {
  let sut: DeliverJob;
  const deliveries = mockOf<DeliveryService>({ claim: jest.fn(), record: jest.fn(), destinationOf: jest.fn() });
  const canonical = mockOf<CanonicalEventService>({ get: jest.fn() });
  const destinations = mockOf<DestinationService>({
    find: jest.fn(),
    signingSecrets: jest.fn(),
    headers: jest.fn(),
    disable: jest.fn(),
  });
  const outbound = mockOf<OutboundClient>({ request: jest.fn() });
  const answer = (result: Partial<OutboundResult>) =>
    outbound.request.mockResolvedValue({ durationMs: 5, ...result } as OutboundResult);

  beforeEach(async () => {
    jest.clearAllMocks();
    deliveries.claim.mockResolvedValue({ kind: 'claimed', delivery: claimed });
    deliveries.record.mockResolvedValue(true);
    canonical.get.mockResolvedValue({ id: 'evt_1', type: 'activity.completed' } as CloudEvent);
    destinations.find.mockResolvedValue(destination);
    destinations.signingSecrets.mockReturnValue([`whsec_${Buffer.alloc(24, 1).toString('base64')}`]);
    destinations.headers.mockReturnValue({ 'x-team': 'sales' });
    const moduleRef = await Test.createTestingModule({
      providers: [
        DeliverJob,
        { provide: DeliveryService, useValue: deliveries },
        { provide: CanonicalEventService, useValue: canonical },
        { provide: DestinationService, useValue: destinations },
        { provide: OutboundClient, useValue: outbound },
        { provide: MetricsService, useValue: mockMetrics() },
        { provide: HUB_CONFIG, useValue: testConfig({ HUB_DESTINATION_CONCURRENCY: '2', HUB_DELIVERY_TIMEOUT: '7' }) },
        { provide: ROOT_LOGGER, useValue: silentLogger },
      ],
    }).compile();
    sut = moduleRef.get(DeliverJob);
  });

  it('signs and posts the event within the deadline, then records the success under its lease', async () => {
    answer({ statusCode: 204 });
    await expect(sut.run('msg_1')).resolves.toBe('succeeded');
    const [request] = outbound.request.mock.calls[0];
    expect(request).toMatchObject({ method: 'POST', url: destination.url, deadlineMs: 7000 });
    expect(request.headers).toMatchObject({ 'webhook-id': 'msg_1', 'x-team': 'sales' });
    expect(deliveries.claim).toHaveBeenCalledWith('msg_1', 17);
    expect(deliveries.record).toHaveBeenCalledWith(claimed, expect.objectContaining({ outcome: 'succeeded' }));
  });

  it('schedules a retry for a 5xx and throws the delay for BullMQ', async () => {
    answer({ statusCode: 503, retryAfterSeconds: 9 });
    const failure = await sut.run('msg_1').catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(RetryDeliveryError);
    expect((failure as RetryDeliveryError).delayMs).toBeGreaterThanOrEqual(9000);
    expect(deliveries.record).toHaveBeenCalledWith(claimed, expect.objectContaining({ outcome: 'retry' }));
  });

  it('records nothing more and schedules nothing once its lease was lost', async () => {
    answer({ statusCode: 500 });
    deliveries.record.mockResolvedValue(false);
    await expect(sut.run('msg_1')).resolves.toBe('lost-lease');
  });

  it('disables the destination on 410 Gone', async () => {
    answer({ statusCode: 410 });
    await expect(sut.run('msg_1')).resolves.toBe('failed');
    expect(destinations.disable).toHaveBeenCalledWith('dst_1', expect.stringContaining('410 Gone'));
  });

  it('fails at once, without retrying, what no retry can fix', async () => {
    answer({ error: 'header "x-team" contains a control character', errorCode: OutboundErrorCode.InvalidRequest });
    await expect(sut.run('msg_1')).resolves.toBe('failed');
    answer({ error: '10.0.0.1 is private', refused: true, errorCode: OutboundErrorCode.Refused });
    await expect(sut.run('msg_1')).resolves.toBe('failed');
  });

  it('ends exhausted after the last scheduled attempt', async () => {
    answer({ error: 'timed out after 7000 ms', timedOut: true, errorCode: OutboundErrorCode.TimedOut });
    deliveries.claim.mockResolvedValue({ kind: 'claimed', delivery: { ...claimed, attempts: 3 } });
    await expect(sut.run('msg_1')).resolves.toBe('exhausted');
  });

  it('skips a delivery another worker holds or finished', async () => {
    deliveries.claim.mockResolvedValue({ kind: 'gone' });
    await expect(sut.run('msg_1')).resolves.toBe('skipped');
    expect(outbound.request).not.toHaveBeenCalled();
  });

  it('makes a destination at its cap wait without spending an attempt, and lets other destinations through', async () => {
    let finish!: (result: OutboundResult) => void;
    outbound.request.mockReturnValue(new Promise<OutboundResult>((resolve) => (finish = resolve)));
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

    finish({ statusCode: 200, durationMs: 1 });
    await Promise.all([...inFlight, otherRun]);
    // The slots are free again.
    const later = jobFor('msg_3', 'dst_1');
    await expect(sut.process(later)).resolves.toBe('succeeded');
  });
});
