import * as ipaddr from 'ipaddr.js';
import { OutboundClient } from '../../../outbound/outbound.client';
import { HubspotFake, startHubspotFake } from '../../../../test/fakes/hubspot.fake';
import { HubspotClient } from './hubspot.client';
import { HUBSPOT_CONFIG_SPEC } from './hubspot.config-spec';
import { HubspotUpserter, UpsertItem } from './hubspot-upsert';

describe(HubspotUpserter.name, () => {
  let fake: HubspotFake;
  let outbound: OutboundClient;
  let sut: HubspotUpserter;

  beforeEach(async () => {
    fake = await startHubspotFake();
    outbound = new OutboundClient([ipaddr.parseCIDR('127.0.0.0/8')]);
    sut = new HubspotUpserter(new HubspotClient(outbound), { windowMs: 20 });
  });

  afterEach(async () => {
    outbound.close();
    await fake.stop();
  });

  const item = (email: string, properties: Record<string, string> = {}, version = 1): UpsertItem => ({
    target: {
      destinationId: 'dst_1',
      config: {
        baseUrl: fake.url,
        token: fake.token,
        externalIdProperty: HUBSPOT_CONFIG_SPEC.defaults.externalIdProperty,
      },
    },
    objectType: 'contacts',
    idProperty: 'email',
    id: email,
    properties: { email, ...properties },
    version,
    deadlineAt: Date.now() + 5000,
  });

  it('writes deliveries due together in one batch/upsert, one result each, duplicates merged newest last', async () => {
    const results = await Promise.all([
      sut.upsert(item('a@example.com', { firstname: 'New' }, 2)),
      sut.upsert(item('b@example.com')),
      sut.upsert(item('a@example.com', { firstname: 'Old' }, 1)),
    ]);
    expect(fake.requests).toEqual([
      {
        method: 'POST',
        path: '/crm/v3/objects/contacts/batch/upsert',
        status: 200,
        body: {
          inputs: [
            { idProperty: 'email', id: 'a@example.com', properties: { email: 'a@example.com', firstname: 'New' } },
            { idProperty: 'email', id: 'b@example.com', properties: { email: 'b@example.com' } },
          ],
        },
      },
    ]);
    expect(results.map((r) => r.ok)).toEqual([true, true, true]);
    expect(results[0]).toMatchObject({ crmId: fake.find('contacts', 'email', 'a@example.com')!.id });
    expect(results[2]).toMatchObject({ crmId: fake.find('contacts', 'email', 'a@example.com')!.id });
  });

  it('when HubSpot refuses a whole batch, sends each record alone so only the invalid one fails', async () => {
    const results = await Promise.all([sut.upsert(item('good@example.com')), sut.upsert(item('not-an-email'))]);
    expect(results[0].ok).toBe(true);
    expect(results[1]).toMatchObject({ ok: false, error: { message: expect.stringContaining('INVALID_EMAIL') } });
    expect(fake.requests.map((r) => r.status)).toEqual([400, 200, 400]);
  });

  it('a hanging HubSpot ends at the deadline as a retryable network error', async () => {
    fake.inject({ kind: 'hang' });
    const result = await sut.upsert({ ...item('slow@example.com'), deadlineAt: Date.now() + 1200 });
    expect(result).toMatchObject({ ok: false, error: { code: 'network' } });
  });
});
