import { InboundEventService, NormalizeStart } from '../src/ingest/inbound-event.service';
import { NORMALIZE_WAITER_MAX_BYTES } from '../src/pipeline/pipeline.constants';
import { PipelineQueue } from '../src/pipeline/pipeline.queue';
import { addSink, startHub, TestHub, waitFor } from './helpers/hub';
import { Sink } from './helpers/sink';
import { sample, svixHeaders, whsec } from './helpers/vendors';

/**
 * Issue 11: a process that runs workers and has no room for an event leaves it in Postgres and pulls it with the
 * rest of its backlog, in batches (NormalizeJob.noteBacklog), instead of sending one normalize job per event through
 * Redis. Bodies above NORMALIZE_WAITER_MAX_BYTES never wait in memory, so with one slot they overflow at once.
 */
describe('the backlog is pulled from Postgres', () => {
  let hub: TestHub;
  let sink: Sink;
  const secret = whsec();
  let sourceId: string;

  beforeAll(async () => {
    hub = await startHub({ HUB_NORMALIZE_CONCURRENCY: '1', HUB_RECONCILE_INTERVAL: '3600' });
    sink = await new Sink().start();
    sourceId = (
      await hub
        .api()
        .post('/api/sources')
        .send({ name: 'AskElephant', connector: 'askelephant', secrets: [secret] })
        .expect(201)
    ).body.id;
    await addSink(hub, sink.url, ['activity.*']);
  });

  afterAll(async () => {
    await hub?.close();
    await sink?.stop();
  });

  /** A v1.engagement.updated too large to wait in memory for a normalisation slot. */
  const large = (n: number) => {
    const body = JSON.parse(sample('askelephant', 'v1.engagement.updated.json').toString()) as {
      id: string;
      data: { object: { id: string; description: string } };
    };
    body.id = `evt_pull_${n}`;
    body.data.object.id = `ngmt_pull_${n}`;
    body.data.object.description = 'x'.repeat(NORMALIZE_WAITER_MAX_BYTES + 1000);
    return Buffer.from(JSON.stringify(body));
  };

  it('normalises and delivers every event it had no room for, with no normalize job and one try each', async () => {
    const enqueued = jest.spyOn(hub.app.get(PipelineQueue), 'normalize');
    const pulls = jest.spyOn(hub.app.get(InboundEventService), 'pullWaiting');
    const bodies = Array.from({ length: 8 }, (_, n) => large(n));
    const answers = await Promise.all(
      bodies.map((body) => hub.http().post(`/hooks/${sourceId}`).set(svixHeaders(secret, body)).send(body.toString())),
    );
    expect(answers.map((answer) => answer.status)).toEqual(bodies.map(() => 202));

    await waitFor(() => sink.requests.length >= bodies.length, { what: 'every event at the sink' });
    const pulled = (await Promise.all(pulls.mock.results.map((result) => result.value as Promise<NormalizeStart[]>)))
      .flat()
      .map((event) => event.id);
    expect(pulled.length).toBeGreaterThan(0);
    expect(enqueued).not.toHaveBeenCalled();
    const rows = await hub.sql<{ status: string; normalize_attempts: number }>(
      'SELECT status, normalize_attempts FROM inbound_event WHERE id = ANY($1)',
      [answers.map((answer) => answer.body.id as string)],
    );
    expect(rows).toEqual(bodies.map(() => ({ status: 'normalized', normalize_attempts: 1 })));
    // Each event reached the sink once.
    const subjects = sink.requests.map((request) => (JSON.parse(request.body) as { subject: string }).subject);
    expect(new Set(subjects).size).toBe(bodies.length);
  });

  it('is for a process that also ingests: a worker-only one, behind api processes that enqueue every event, keeps to the queue', async () => {
    expect(hub.app.get(PipelineQueue).pullLocally()).toBe(true);
    const worker = await startHub({ HUB_ROLE: 'worker' });
    try {
      expect(worker.app.get(PipelineQueue).pullLocally()).toBe(false);
    } finally {
      await worker.close();
    }
  });
});
