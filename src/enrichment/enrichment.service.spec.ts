import { testConfig } from '../../test/helpers/mocks';
import { SalesAskApiFake } from '../../test/fakes/salesask-api.fake';
import { ConnectorRegistry } from '../connectors/connector.registry';
import { OutboundClient } from '../outbound/outbound.client';
import { EnrichmentService } from './enrichment.service';
import http from 'node:http';
import { AddressInfo } from 'node:net';

describe(EnrichmentService.name, () => {
  const registry = new ConnectorRegistry();
  const connector = registry.get('salesask');
  const declaration = registry.enrichmentFor(connector, 'recording.processed')!;
  const config = testConfig({ HUB_OUTBOUND_ALLOW: '127.0.0.0/8', HUB_ENRICHMENT_MAX_BYTES: '2048' });
  const client = new OutboundClient(config.outboundAllow);
  const sut = new EnrichmentService(client, config);
  let api: SalesAskApiFake;
  const source = { id: 'src_1', name: 'Sales Ask EMEA' };
  const payload = (id: unknown) => ({ event: 'recording.processed', data: { id } });
  const fetch = (id: unknown, apiKey = 'right-key', deadlineMs = 2000) =>
    sut.fetch({
      connector,
      declaration,
      source,
      credential: { apiKey, baseUrl: api.url },
      payload: payload(id),
      deadlineMs,
    });

  beforeAll(async () => {
    api = await new SalesAskApiFake('right-key').start();
  });
  afterAll(async () => {
    client.close();
    await api.stop();
  });

  it('builds the URL from the declaration: the documented base, the payload value encoded into the path', () => {
    expect(sut.urlFor({ declaration, credential: { apiKey: 'k' }, payload: payload('a b/c') })).toEqual({
      url: 'https://integrations.salesask.com/v1/recordings/a%20b%2Fc',
    });
    expect(
      sut.urlFor({ declaration, credential: { apiKey: 'k', baseUrl: 'http://127.0.0.1:9/' }, payload: payload(7) }),
    ).toEqual({
      url: 'http://127.0.0.1:9/v1/recordings/7',
    });
  });

  it('stores the answer under the declared name', async () => {
    api.serveRecording('r1', [['Rita Rep', 'Hello']]);
    const result = await fetch('r1');
    expect(result).toMatchObject({ outcome: 'enriched', truncated: false, document: { recording: { id: 'r1' } } });
  });

  it('bounds a large answer and records the cut', async () => {
    api.serveRecording(
      'r-long',
      Array.from({ length: 200 }, (_, i): [string, string] => ['Rita Rep', `line ${i}`]),
    );
    const result = await fetch('r-long');
    if (result.outcome !== 'enriched') throw new Error(`expected enriched, got ${result.outcome}`);
    expect(result.truncated).toBe(true);
    expect(result.bytes).toBeGreaterThan(2048);
    expect(Buffer.byteLength(JSON.stringify(result.document.recording))).toBeLessThanOrEqual(2048);
  });

  it('classifies answers: 401 fails naming the source, 404 fails, 429 and 5xx retry with Retry-After', async () => {
    api.serveRecording('r2', [['Rita Rep', 'Hello']]);
    const unauthorized = await fetch('r2', 'wrong-key');
    expect(unauthorized).toMatchObject({ outcome: 'failed', code: 'unauthorized' });
    expect(unauthorized.outcome === 'failed' && unauthorized.reason).toContain('source "Sales Ask EMEA" (src_1)');
    expect(JSON.stringify(unauthorized)).not.toContain('wrong-key');
    expect(await fetch('unknown')).toMatchObject({ outcome: 'failed', code: 'rejected' });
    api.failNext({ kind: 'throttle', retryAfterSeconds: 7 });
    expect(await fetch('r2')).toMatchObject({ outcome: 'retry', code: 'throttled', retryAfterSeconds: 7 });
    api.failNext({ kind: 'fail', status: 502 });
    expect(await fetch('r2')).toMatchObject({ outcome: 'retry', code: 'server_error' });
    api.failNext({ kind: 'hang' });
    expect(await fetch('r2', 'right-key', 300)).toMatchObject({ outcome: 'retry', code: 'timed_out' });
  });

  it('fails without a request when the payload lacks the id the path needs', async () => {
    const before = api.requests.length;
    expect(await fetch(undefined)).toMatchObject({ outcome: 'failed', code: 'missing_value' });
    expect(await fetch('')).toMatchObject({ outcome: 'failed', code: 'missing_value' });
    expect(api.requests.length).toBe(before);
  });

  it('refuses a private target HUB_OUTBOUND_ALLOW does not list, without retrying', async () => {
    const strict = new EnrichmentService(new OutboundClient([]), config);
    const result = await strict.fetch({
      connector,
      declaration,
      source,
      credential: { apiKey: 'k', baseUrl: api.url },
      payload: payload('r1'),
      deadlineMs: 1000,
    });
    expect(result).toMatchObject({ outcome: 'failed', code: 'refused' });
  });

  it('fails an answer that is not a JSON object', async () => {
    const server = http.createServer((_req, res) => res.end('<html>maintenance</html>'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const result = await sut.fetch({
        connector,
        declaration,
        source,
        credential: { apiKey: 'k', baseUrl },
        payload: payload('r1'),
        deadlineMs: 1000,
      });
      expect(result).toMatchObject({ outcome: 'failed', code: 'bad_response' });
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
