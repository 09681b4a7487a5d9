import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { DataSource } from 'typeorm';
import type { CloudEvent } from '../src/canonical/cloud-event';
import { MappingOverrideService } from '../src/mappings/mapping-override.service';
import { MappingService } from '../src/mappings/mapping.service';
import { postSalesAsk, startHub, TEST_API_KEY, TestHub, waitFor } from './helpers/hub';
import { ROOT, salesAskRecording } from './helpers/vendors';

const CONNECTOR = 'salesask';
const TYPE = 'recording.processed';
const FILE_TEXT = readFileSync(join(ROOT, 'mappings', CONNECTOR, `${TYPE}.jsonata`), 'utf8');
/** The file's mapping with a fixed title: a version whose effect is easy to see. */
const withTitle = (title: string) => {
  const text = FILE_TEXT.replace('"title": $val($d.name),', `"title": "${title}",`);
  if (text === FILE_TEXT) throw new Error('the Sales Ask mapping no longer has the title line this test edits');
  return text;
};
/** Compiles and runs, but every output's subject is malformed and its data has an unknown field. */
const INVALID_OUTPUT =
  '{ "type": "activity.analyzed", "subject": "nope", "data": { "id": "x", "kind": "recording", "bogus": 1 } }';

/** Issue 9, mappings: versioned overrides in Postgres, preview, dry-run, the version recorded on every event. */
describe('mappings API e2e', () => {
  let hub: TestHub;
  let sourceId: string;
  const put = (path: string) => request(hub.baseUrl).put(path).set('authorization', `Bearer ${TEST_API_KEY}`);

  beforeAll(async () => {
    hub = await startHub({ LOG_LEVEL: 'error' });
    sourceId = (await hub.api().post('/api/sources').send({ name: 'Sales Ask', connector: CONNECTOR }).expect(201)).body
      .id;
  });

  afterAll(async () => {
    if (process.env.DEBUG_LOGS) console.log(hub.logs.join(''));
    await hub?.close();
  });

  /** Sends a distinct Sales Ask recording and waits for its canonical event. */
  async function normalised(recordingId: string): Promise<{ inboundId: string; event: CloudEvent; version: string }> {
    const accepted = await postSalesAsk(hub, sourceId, recordingId);
    const inboundId = accepted.body.id as string;
    const [row] = await waitFor(
      async () => {
        const rows = await hub.sql<{ event: CloudEvent; mapping_version: string }>(
          'SELECT event, mapping_version FROM canonical_event WHERE inbound_event_id = $1',
          [inboundId],
        );
        return rows.length ? rows : undefined;
      },
      { what: `the canonical event of ${recordingId}` },
    );
    return { inboundId, event: row.event, version: row.mapping_version };
  }

  it('lists every inbound mapping of every connector and every destination mapping, from the files', async () => {
    const { body } = await hub.api().get('/api/mappings').expect(200);
    expect(body).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          kind: 'inbound',
          connector: CONNECTOR,
          eventType: TYPE,
          origin: 'file',
          version: expect.stringMatching(/^file:[0-9a-f]{12}$/),
          changedAt: expect.any(String),
          storedVersions: 0,
        }),
        expect.objectContaining({ kind: 'inbound', connector: 'askelephant', eventType: 'v1.contact.created' }),
        expect.objectContaining({
          kind: 'destination',
          crm: 'hubspot',
          name: 'contact',
          origin: 'file',
          version: expect.stringMatching(/^file:/),
        }),
        expect.objectContaining({ kind: 'destination', crm: 'salesforce', name: 'lead' }),
      ]),
    );
  });

  it('records the file version on events normalised before any override', async () => {
    const { event, version } = await normalised('rec_file_1');
    expect(event.data.title).toBe('Call with John Doe');
    expect(version).toMatch(/^file:[0-9a-f]{12}$/);
  });

  it('refuses an expression that does not compile with 422, the JSONata error and its position', async () => {
    const response = await put(`/api/mappings/${CONNECTOR}/${TYPE}`).send({ expression: '{ "type": ' }).expect(422);
    expect(response.body).toMatchObject({
      statusCode: 422,
      message: expect.stringContaining('does not compile'),
      details: { jsonataCode: expect.any(String), position: expect.any(Number) },
    });
  });

  it('refuses an expression whose output on the samples fails canonical validation, naming the paths', async () => {
    const response = await put(`/api/mappings/${CONNECTOR}/${TYPE}`).send({ expression: INVALID_OUTPUT }).expect(422);
    const failures = response.body.details.failures as { fixture: string; problems: { path: string }[] }[];
    expect(failures.map((f) => f.fixture)).toEqual(expect.arrayContaining(['sample recording.processed.json']));
    const paths = failures.flatMap((f) => f.problems.map((p) => p.path));
    expect(paths).toEqual(expect.arrayContaining(['subject', 'data.bogus']));
    // Nothing was stored.
    const { body } = await hub.api().get(`/api/mappings/${CONNECTOR}/${TYPE}`).expect(200);
    expect(body).toMatchObject({ origin: 'file', versions: [] });
  });

  it('answers 404 for a connector or event type that does not exist, and 400 for a body the DTO refuses', async () => {
    await put(`/api/mappings/nope/${TYPE}`).send({ expression: '1' }).expect(404);
    await put(`/api/mappings/${CONNECTOR}/no.such.type`).send({ expression: '1' }).expect(404);
    await put(`/api/mappings/${CONNECTOR}/${TYPE}`).send({ expression: '' }).expect(400);
    await put(`/api/mappings/${CONNECTOR}/${TYPE}`).send({ expression: 'x', extra: 1 }).expect(400);
    await put(`/api/mappings/${CONNECTOR}/${TYPE}`).send({ expression: '"a\u0000b"' }).expect(400);
  });

  it('stores a good version, which the next event normalised uses and records', async () => {
    const saved = await put(`/api/mappings/${CONNECTOR}/${TYPE}`)
      .send({ expression: withTitle('v1 title'), comment: 'fixed title' })
      .expect(200);
    expect(saved.body).toMatchObject({
      origin: 'override',
      version: 'override:1',
      expression: withTitle('v1 title'),
      versions: [{ version: 1, comment: 'fixed title', active: true }],
    });

    const { event, version } = await normalised('rec_override_1');
    expect(event.data.title).toBe('v1 title');
    expect(version).toBe('override:1');

    const { body } = await hub.api().get('/api/mappings').expect(200);
    expect(body).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ connector: CONNECTOR, eventType: TYPE, origin: 'override', version: 'override:1' }),
      ]),
    );
  });

  it('reaches another process within seconds: its override copy refreshes without being told', async () => {
    // A second MappingService on its own MappingOverrideService stands for a worker process: nothing invalidates it.
    const other = new MappingService(undefined, undefined, new MappingOverrideService(hub.app.get(DataSource)));
    try {
      const before = (await other.resolve(CONNECTOR, TYPE)).version;
      await put(`/api/mappings/${CONNECTOR}/${TYPE}`)
        .send({ expression: withTitle('v2 title') })
        .expect(200);
      const after = await waitFor(
        async () => {
          const resolved = await other.resolve(CONNECTOR, TYPE);
          return resolved.version !== before && resolved;
        },
        { timeoutMs: 5000, what: 'the other process to see version 2' },
      );
      expect(after.version).toBe('override:2');
      expect(after.expression.source).toBe(withTitle('v2 title'));
    } finally {
      await other.close();
    }
  });

  it('previews a payload with the mapping in effect, and a stored event with a candidate, changing nothing', async () => {
    const payload = JSON.parse(salesAskRecording('rec_preview'));
    const current = await hub
      .api()
      .post('/api/mappings/preview')
      .send({ connector: CONNECTOR, eventType: TYPE, payload });
    expect(current.status).toBe(200);
    expect(current.body).toMatchObject({
      mappingVersion: 'override:2',
      errors: [],
      durationMs: expect.any(Number),
      events: [expect.objectContaining({ type: 'activity.analyzed', subject: 'activity:salesask:rec_preview' })],
    });
    expect(current.body.events[0].data.title).toBe('v2 title');

    const { inboundId, event: stored } = await normalised('rec_preview_stored');
    const candidate = await hub
      .api()
      .post('/api/mappings/preview')
      .send({ connector: CONNECTOR, eventType: TYPE, inboundEventId: inboundId, expression: withTitle('candidate') })
      .expect(200);
    expect(candidate.body).toMatchObject({ mappingVersion: 'candidate', errors: [] });
    // Same inbound id, so the same derived event id as the stored one.
    expect(candidate.body.events[0]).toMatchObject({ id: stored.id, data: { title: 'candidate' } });

    const invalid = await hub
      .api()
      .post('/api/mappings/preview')
      .send({ connector: CONNECTOR, eventType: TYPE, inboundEventId: inboundId, expression: INVALID_OUTPUT })
      .expect(200);
    expect(invalid.body.events).toEqual([]);
    expect(invalid.body.errors[0]).toMatchObject({
      code: 'mapping_output_invalid',
      problems: expect.arrayContaining([expect.objectContaining({ path: 'subject' })]),
    });

    // Nothing changed: the stored event and the version in effect.
    const [row] = await hub.sql<{ event: CloudEvent }>('SELECT event FROM canonical_event WHERE id = $1', [stored.id]);
    expect(row.event.data.title).toBe('v2 title');
    const { body } = await hub.api().get(`/api/mappings/${CONNECTOR}/${TYPE}`).expect(200);
    expect(body.version).toBe('override:2');

    await hub.api().post('/api/mappings/preview').send({ connector: CONNECTOR, eventType: TYPE }).expect(400);
    await hub
      .api()
      .post('/api/mappings/preview')
      .send({ connector: CONNECTOR, eventType: TYPE, inboundEventId: 'in_doesnotexist' })
      .expect(404);
    const bad = await hub
      .api()
      .post('/api/mappings/preview')
      .send({ connector: CONNECTOR, eventType: TYPE, payload, expression: '$$.(' })
      .expect(422);
    expect(bad.body.details.position).toEqual(expect.any(Number));
  });

  it('dry-runs a candidate over the newest real events: counts and a field diff against the stored output', async () => {
    const stored = await hub.sql<{ n: number }>(
      `SELECT count(*)::int AS n FROM inbound_event WHERE vendor_event_type = $1`,
      [TYPE],
    );
    const changed = await hub
      .api()
      .post(`/api/mappings/${CONNECTOR}/${TYPE}/dry-run`)
      .send({ expression: withTitle('dry title') })
      .expect(200);
    expect(changed.body).toMatchObject({ total: stored[0].n, passed: stored[0].n, failed: 0, changed: stored[0].n });
    const diffs = changed.body.events.flatMap((e: { diff: unknown[] }) => e.diff);
    expect(diffs).toEqual(expect.arrayContaining([{ path: '[0].data.title', before: 'v2 title', after: 'dry title' }]));
    expect(diffs).toEqual(
      expect.arrayContaining([{ path: '[0].data.title', before: 'Call with John Doe', after: 'dry title' }]),
    );
    expect(diffs.every((d: { path: string }) => d.path === '[0].data.title')).toBe(true);

    const limited = await hub
      .api()
      .post(`/api/mappings/${CONNECTOR}/${TYPE}/dry-run`)
      .send({ expression: withTitle('v2 title'), limit: 1 })
      .expect(200);
    // The newest event was normalised by version 2: the same text changes nothing.
    expect(limited.body).toMatchObject({ total: 1, passed: 1, failed: 0, changed: 0, unchanged: 1 });

    const failing = await hub
      .api()
      .post(`/api/mappings/${CONNECTOR}/${TYPE}/dry-run`)
      .send({ expression: INVALID_OUTPUT, limit: 2 })
      .expect(200);
    expect(failing.body).toMatchObject({ total: 2, passed: 0, failed: 2 });
    expect(failing.body.events[0].error).toMatchObject({ code: 'mapping_output_invalid' });

    await hub.api().post(`/api/mappings/${CONNECTOR}/${TYPE}/dry-run`).send({ expression: '(' }).expect(422);
    await hub.api().post(`/api/mappings/${CONNECTOR}/${TYPE}/dry-run`).send({ expression: '1', limit: 0 }).expect(400);
  });

  it('reverts to the file on DELETE, keeping the versions, and restores any version in one call', async () => {
    const reverted = await hub.api().delete(`/api/mappings/${CONNECTOR}/${TYPE}`).expect(200);
    expect(reverted.body).toMatchObject({
      origin: 'file',
      version: expect.stringMatching(/^file:/),
      expression: FILE_TEXT,
    });
    expect(reverted.body.versions.map((v: { version: number; active: boolean }) => [v.version, v.active])).toEqual([
      [1, false],
      [2, false],
    ]);
    const afterRevert = await normalised('rec_reverted');
    expect(afterRevert.event.data.title).toBe('Call with John Doe');
    expect(afterRevert.version).toBe(reverted.body.version);

    const restored = await hub.api().post(`/api/mappings/${CONNECTOR}/${TYPE}/versions/1/restore`).expect(200);
    expect(restored.body).toMatchObject({
      origin: 'override',
      version: 'override:1',
      expression: withTitle('v1 title'),
    });
    const afterRestore = await normalised('rec_restored');
    expect(afterRestore.event.data.title).toBe('v1 title');
    expect(afterRestore.version).toBe('override:1');

    await hub.api().post(`/api/mappings/${CONNECTOR}/${TYPE}/versions/9/restore`).expect(404);
  });

  describe('authentication', () => {
    const routes: [method: 'get' | 'post' | 'put' | 'delete', path: string][] = [
      ['get', '/api/mappings'],
      ['get', `/api/mappings/${CONNECTOR}/${TYPE}`],
      ['put', `/api/mappings/${CONNECTOR}/${TYPE}`],
      ['delete', `/api/mappings/${CONNECTOR}/${TYPE}`],
      ['post', `/api/mappings/${CONNECTOR}/${TYPE}/versions/1/restore`],
      ['post', `/api/mappings/${CONNECTOR}/${TYPE}/dry-run`],
      ['post', '/api/mappings/preview'],
    ];

    it.each(routes)('%s %s answers 401 without the key, and changes nothing', async (method, path) => {
      const before = await hub.api().get(`/api/mappings/${CONNECTOR}/${TYPE}`).expect(200);
      const call = () => request(hub.baseUrl)[method](path);
      await call()
        .send({ expression: withTitle('intruder') })
        .expect(401);
      await call().set('authorization', 'Bearer wrong-key-0123456789abcdef').expect(401);
      const after = await hub.api().get(`/api/mappings/${CONNECTOR}/${TYPE}`).expect(200);
      expect(after.body).toEqual(before.body);
    });
  });
});
