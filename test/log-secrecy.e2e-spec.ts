import { Client } from 'pg';
import { sourceFingerprint } from '../src/common/source-fingerprint';
import { startHub, TestHub, waitFor } from './helpers/hub';

const SERVER_URL = process.env.TEST_DATABASE_SERVER ?? 'postgres://postgres@127.0.0.1:5432';

interface LogLine {
  msg: string;
  level: number;
  [field: string]: unknown;
}

/**
 * Issue 7: a url-token source's id IS its credential (anyone holding the Sales Ask URL can post events), and it
 * was written to the log on every rejection. Logs carry a fingerprint of it instead.
 */
describe('source ids in logs e2e', () => {
  let hub: TestHub;
  let sourceId: string;

  beforeAll(async () => {
    hub = await startHub({ HUB_ROLE: 'api' });
    sourceId = (await hub.api().post('/api/sources').send({ name: 'Sales Ask', connector: 'salesask' }).expect(201))
      .body.id;
  });

  afterAll(async () => {
    await hub?.close();
  });

  const parsedLogs = () => hub.logs.map((l) => JSON.parse(l) as LogLine);
  const hook = () => hub.http().post(`/hooks/${sourceId}`);

  it('logs ingest rejections of a Sales Ask source with its fingerprint and connector, never its id', async () => {
    const before = hub.logs.length;
    await hook().set('content-type', 'text/plain').send('hello').expect(415);
    await hook().set('content-type', 'application/json').send('{"event": ').expect(400);
    await hook().set('content-type', 'application/json').send('{"data": {}}').expect(400);
    await hook()
      .set('content-type', 'application/json')
      .send(Buffer.alloc(1024 * 1024 + 1, 0x20))
      .expect(413);

    const rejections = parsedLogs()
      .slice(before)
      .filter((l) => l.msg.startsWith('rejected'));
    expect(rejections.map((l) => l.reason)).toEqual(['unsupported_media_type', 'malformed_json', 'missing_envelope']);
    for (const line of rejections) {
      expect(line).toMatchObject({ source: sourceFingerprint(sourceId), connector: 'salesask' });
    }
    expect(hub.logs.join('\n')).not.toContain(sourceId);
  });

  it('logs 5xx request URLs with the fingerprint in place of the id (database unavailable)', async () => {
    const admin = new Client({ connectionString: `${SERVER_URL}/postgres` });
    await admin.connect();
    const before = hub.logs.length;
    try {
      await admin.query(`ALTER DATABASE "${hub.databaseName}" ALLOW_CONNECTIONS false`);
      await admin.query(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
        [hub.databaseName],
      );
      // The first call may meet a pooled connection the server just terminated; both paths must be covered.
      for (let i = 0; i < 2; i++) {
        await hook().set('content-type', 'application/json').send('{"event": "x", "data": {}}').expect(503);
        await hub.api().get(`/api/sources/${sourceId}`).expect(503);
        await hub.api().get(`/api/events?sourceId=${sourceId}`).expect(503);
        await hub.api().patch(`/api/sources/${sourceId}`).send({ name: 'x' }).expect(503);
      }
    } finally {
      await admin.query(`ALTER DATABASE "${hub.databaseName}" ALLOW_CONNECTIONS true`);
      await admin.end();
    }
    await waitFor(async () => (await hub.api().get('/api/sources')).status === 200, { what: 'the database back' });

    const failures = parsedLogs()
      .slice(before)
      .filter((l) => l.level >= 40);
    const fingerprint = `~${sourceFingerprint(sourceId)}`;
    expect(failures.map((l) => l.url)).toEqual(
      expect.arrayContaining([
        `/hooks/${fingerprint}`,
        `/api/sources/${fingerprint}`,
        `/api/events?sourceId=${fingerprint}`,
      ]),
    );
    expect(hub.logs.join('\n')).not.toContain(sourceId);
  });
});
