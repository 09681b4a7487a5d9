import { Test } from '@nestjs/testing';
import { mockOf, silentLogger, testConfig } from '../../test/helpers/mocks';
import { ROOT_LOGGER } from '../common/logger';
import { HUB_CONFIG } from '../config/hub-config';
import { DeliveryService } from '../delivery/delivery.service';
import { InboundEventService } from '../ingest/inbound-event.service';
import { NORMALIZE_RETRY_SECONDS, RECONCILE_GRACE_SECONDS } from './pipeline.constants';
import { PipelineQueue } from './pipeline.queue';
import { ReconcilerService } from './reconciler.service';

describe(ReconcilerService.name, () => {
  let sut: ReconcilerService;
  const inbound = mockOf<InboundEventService>({ waiting: jest.fn(), enrichmentDue: jest.fn() });
  const deliveries = mockOf<DeliveryService>({ due: jest.fn() });
  const queue = mockOf<PipelineQueue>({
    normalize: jest.fn(),
    deliver: jest.fn(),
    enrich: jest.fn(),
    pullLocally: jest.fn(),
  });

  beforeEach(async () => {
    jest.clearAllMocks();
    inbound.waiting.mockResolvedValue(['in_1', 'in_2']);
    queue.pullLocally.mockReturnValue(false);
    inbound.enrichmentDue.mockResolvedValue([{ id: 'in_3', sourceId: 'src_1' }]);
    deliveries.due.mockResolvedValue([{ id: 'msg_1', destinationId: 'dst_1' }]);
    const moduleRef = await Test.createTestingModule({
      providers: [
        ReconcilerService,
        { provide: InboundEventService, useValue: inbound },
        { provide: DeliveryService, useValue: deliveries },
        { provide: PipelineQueue, useValue: queue },
        { provide: HUB_CONFIG, useValue: testConfig() },
        { provide: ROOT_LOGGER, useValue: silentLogger },
      ],
    }).compile();
    sut = moduleRef.get(ReconcilerService);
  });

  it('hands what Postgres says is owed to the queue, one bulk call per list', async () => {
    queue.normalize.mockResolvedValue(true);
    queue.deliver.mockResolvedValue(true);
    queue.enrich.mockResolvedValue(true);
    await expect(sut.reconcile()).resolves.toEqual({ normalize: 2, deliver: 1, enrich: 1 });
    // Issue 12: an event whose fetch Redis lost (flush, restart) is fetched again, not stranded.
    expect(inbound.enrichmentDue).toHaveBeenCalledWith(RECONCILE_GRACE_SECONDS, 1000);
    expect(queue.enrich).toHaveBeenCalledWith([{ id: 'in_3', sourceId: 'src_1' }]);
    // Events tried lately are left to the retry already scheduled, so a pass never spins on them.
    expect(inbound.waiting).toHaveBeenCalledWith(RECONCILE_GRACE_SECONDS, NORMALIZE_RETRY_SECONDS, 1000);
    expect(queue.normalize).toHaveBeenCalledWith(['in_1', 'in_2']);
    expect(queue.deliver).toHaveBeenCalledWith([{ id: 'msg_1', destinationId: 'dst_1' }]);
  });

  it('counts nothing as re-enqueued while Redis refuses the jobs', async () => {
    queue.normalize.mockResolvedValue(false);
    queue.deliver.mockResolvedValue(false);
    queue.enrich.mockResolvedValue(false);
    await expect(sut.reconcile()).resolves.toEqual({ normalize: 0, deliver: 0, enrich: 0 });
  });

  it('leaves waiting events to the local NormalizeJob, which pulls them from Postgres (issue 11)', async () => {
    queue.pullLocally.mockReturnValue(true);
    queue.deliver.mockResolvedValue(true);
    queue.enrich.mockResolvedValue(true);
    await expect(sut.reconcile()).resolves.toEqual({ normalize: 2, deliver: 1, enrich: 1 });
    expect(queue.normalize).not.toHaveBeenCalled();
  });

  it('does not wake the puller when nothing waits', async () => {
    inbound.waiting.mockResolvedValue([]);
    queue.normalize.mockResolvedValue(true);
    queue.deliver.mockResolvedValue(true);
    queue.enrich.mockResolvedValue(true);
    await sut.reconcile();
    expect(queue.pullLocally).not.toHaveBeenCalled();
  });
});
