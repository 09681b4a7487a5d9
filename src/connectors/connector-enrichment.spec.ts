import { ConnectorRegistry, loadEnrichment } from './connector.registry';

describe(loadEnrichment.name, () => {
  const events = ['recording.processed', 'recording.integration_updated'];
  const fail = (message: string): never => {
    throw new Error(message);
  };
  const load = (raw: unknown) => loadEnrichment(raw, events, fail);
  const valid = {
    event: 'recording.processed',
    path: '/v1/recordings/{data.id}',
    auth: { header: 'x-api-key' },
    baseUrl: 'https://integrations.salesask.com/',
    into: 'recording',
  };

  it('fills the defaults: GET, the key itself as the header value, no trailing slash on the base URL', () => {
    expect(load([valid])).toEqual([
      {
        event: 'recording.processed',
        method: 'GET',
        path: '/v1/recordings/{data.id}',
        auth: { header: 'x-api-key', value: '{apiKey}' },
        baseUrl: 'https://integrations.salesask.com',
        into: 'recording',
      },
    ]);
    expect(load(undefined)).toEqual([]);
  });

  it.each([
    [{ ...valid, event: 'recording.deleted' }, "enrichment[0].event must be one of the connector's events"],
    [{ ...valid, method: 'DELETE' }, 'enrichment[0].method must be GET or POST'],
    [{ ...valid, path: 'v1/recordings/{data.id}' }, 'enrichment[0].path must start with /'],
    [{ ...valid, path: '/v1/recordings/{data id}' }, 'enrichment[0].path must start with /'],
    [{ ...valid, auth: { header: 'x api key' } }, 'enrichment[0].auth.header must be a header name'],
    [{ ...valid, auth: { header: 'authorization', value: 'Bearer token' } }, 'must contain {apiKey}'],
    [{ ...valid, baseUrl: 'ftp://example.com' }, 'enrichment[0].baseUrl: url must be http or https'],
    [{ ...valid, into: '$enrichment' }, 'enrichment[0].into must be a name'],
  ])('refuses %j at boot, naming the problem', (item, message) => {
    expect(() => load([item])).toThrow(message);
  });

  it('refuses two fetches for one event', () => {
    expect(() => load([valid, valid])).toThrow('has two enrichments');
  });

  it('the shipped connectors declare the documented fetches', () => {
    const registry = new ConnectorRegistry();
    const salesask = registry.enrichmentFor(registry.get('salesask'), 'recording.processed');
    expect(salesask).toMatchObject({ path: '/v1/recordings/{data.id}', baseUrl: 'https://integrations.salesask.com' });
    const askelephant = registry.enrichmentFor(
      registry.get('askelephant'),
      'v1.engagement.transcript_timeline.completed',
    );
    expect(askelephant).toMatchObject({ path: '/v2/engagements/{data.object.id}/transcript_timeline' });
    expect(askelephant?.baseUrl).toBeUndefined();
    expect(registry.enrichmentFor(registry.get('askelephant'), 'v1.engagement.updated')).toBeUndefined();
  });
});
