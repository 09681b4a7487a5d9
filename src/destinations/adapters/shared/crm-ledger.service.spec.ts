import { DataSource } from 'typeorm';
import { addSink, startHub, TestHub } from '../../../../test/helpers/hub';
import { CrmLedgerService } from './crm-ledger.service';

describe(CrmLedgerService.name, () => {
  let hub: TestHub;
  let sut: CrmLedgerService;
  let destinationId: string;

  beforeAll(async () => {
    hub = await startHub({ HUB_ROLE: 'api' });
    sut = new CrmLedgerService(hub.app.get(DataSource));
    destinationId = await addSink(hub, 'http://127.0.0.1:9/hook', ['*']);
  });

  afterAll(() => hub.close());

  it('keeps the newest state’s version and hash when an older write is recorded after it', async () => {
    const newer = new Date('2026-03-09T12:00:00Z');
    const older = new Date('2026-03-09T11:00:00Z');
    await sut.record(destinationId, 'activity:telephony:1', 'calls', {
      crmId: '7',
      stateVersion: newer,
      payloadHash: 'h-new',
    });
    await sut.record(destinationId, 'activity:telephony:1', 'calls', { stateVersion: older, payloadHash: 'h-old' });
    expect(await sut.get(destinationId, 'activity:telephony:1', 'calls')).toEqual({
      crmId: '7',
      stateVersion: newer,
      payloadHash: 'h-new',
    });
    expect(await sut.isStale(destinationId, 'activity:telephony:1', older)).toBe(true);
    expect(await sut.isStale(destinationId, 'activity:telephony:1', newer)).toBe(false);
  });
});
