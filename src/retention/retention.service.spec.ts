import { mockOf, silentLogger, testConfig } from '../../test/helpers/mocks';
import { DeliveryService } from '../delivery/delivery.service';
import { InboundEventService } from '../ingest/inbound-event.service';
import { VerificationRejectionService } from '../ingest/verification-rejection.service';
import { RetentionService } from './retention.service';

describe(RetentionService.name, () => {
  const now = new Date('2026-03-31T00:00:00Z');

  function build(payloadBatches: number[], attemptBatches: number[], rejectionBatches: number[] = []) {
    const inbound = mockOf<InboundEventService>({
      purgePayloads: jest.fn(() => Promise.resolve(payloadBatches.shift() ?? 0)),
    });
    const deliveries = mockOf<DeliveryService>({
      purgeAttempts: jest.fn(() => Promise.resolve(attemptBatches.shift() ?? 0)),
    });
    const rejections = mockOf<VerificationRejectionService>({
      purge: jest.fn(() => Promise.resolve(rejectionBatches.shift() ?? 0)),
    });
    const sut = new RetentionService(
      inbound,
      deliveries,
      rejections,
      testConfig({ HUB_RETENTION_DAYS: '30', HUB_ROLE: 'api' }),
      silentLogger,
    );
    return { sut, inbound, deliveries, rejections };
  }

  it('purges everything older than HUB_RETENTION_DAYS, batch after batch, until a batch comes back short', async () => {
    const { sut, inbound, deliveries, rejections } = build([3, 3, 1], [3, 0], [2]);
    expect(await sut.purge(now, 3)).toEqual({ payloads: 7, attempts: 3, rejections: 2, statements: 6 });
    const cutoff = new Date('2026-03-01T00:00:00Z');
    expect(inbound.purgePayloads).toHaveBeenCalledTimes(3);
    expect(inbound.purgePayloads).toHaveBeenCalledWith(cutoff, 3);
    expect(deliveries.purgeAttempts).toHaveBeenCalledTimes(2);
    expect(deliveries.purgeAttempts).toHaveBeenCalledWith(cutoff, 3);
    expect(rejections.purge).toHaveBeenCalledWith(cutoff, 3);
  });

  it('stops after the current batch once shutdown begins', async () => {
    const { sut, inbound, deliveries } = build([3, 3, 3, 3], [3]);
    const pass = sut.purge(now, 3);
    await sut.beforeApplicationShutdown();
    expect(await pass).toEqual({ payloads: 3, attempts: 0, rejections: 0, statements: 1 });
    expect(inbound.purgePayloads).toHaveBeenCalledTimes(1);
    expect(deliveries.purgeAttempts).not.toHaveBeenCalled();
  });

  it('runs no pass in an api-only process', () => {
    const { sut, inbound } = build([], []);
    sut.onApplicationBootstrap();
    expect(inbound.purgePayloads).not.toHaveBeenCalled();
  });
});
