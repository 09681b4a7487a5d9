/*
 * CRM destinations (issue 8): `npm run bench` runs this after the ingest bench. For each CRM with a fake in
 * test/fakes/, 1 000 AskElephant contact.updated events (distinct contacts) go through a real hub into the fake:
 * it prints records per second, HTTP requests per record (batching's target is ≤ 0.1) and 429s; then the same
 * against a fake that allows 100 requests per 10 s: how long the backlog takes and how many 429s it got (target:
 * none, since the token bucket slows down first). Figures only: nothing here asserts.
 */
import http from 'node:http';
import { HubspotFake, startHubspotFake } from '../test/fakes/hubspot.fake';
import { startSalesforceFake } from '../test/fakes/salesforce.fake';
import { startHub, TestHub, waitFor } from '../test/helpers/hub';
import { sample, svixHeaders, whsec } from '../test/helpers/vendors';

const RECORDS = Number(process.env.BENCH_CRM_RECORDS ?? 1000);
const CONCURRENCY = 32;

interface CrmKit {
  name: string;
  start(rateLimit?: { max: number; intervalMs: number }): Promise<{
    config: Record<string, string>;
    requests(): number;
    throttled(): number;
    stop(): Promise<void>;
    /** Method and path of every request, for the breakdown. */
    paths(): string[];
  }>;
}

const KITS: CrmKit[] = [
  {
    name: 'hubspot',
    async start(rateLimit) {
      const fake: HubspotFake = await startHubspotFake({
        rateLimit: rateLimit ?? { max: 100_000, intervalMs: 10_000 },
      });
      return {
        config: { baseUrl: fake.url, token: fake.token },
        requests: () => fake.requests.length,
        throttled: () => fake.throttled,
        stop: () => fake.stop(),
        paths: () => fake.requests.map((r) => `${r.method} ${r.path.replace(/\/\d+/g, '/:id')}`),
      };
    },
  },
  {
    name: 'salesforce',
    async start(rateLimit) {
      const fake = await startSalesforceFake(
        rateLimit ? { rateLimit: { requests: rateLimit.max, windowMs: rateLimit.intervalMs } } : {},
      );
      return {
        config: { instanceUrl: fake.url, token: fake.token },
        requests: () => fake.requests.length,
        throttled: () => fake.throttled,
        stop: () => fake.stop(),
        paths: () => fake.requests.map((r) => `${r.method} ${r.path.replace(/\/[^/]*@[^/]*$/, '/:id')}`),
      };
    },
  },
];

function contactUpdated(i: number): string {
  const event = JSON.parse(sample('askelephant', 'v1.contact.updated.json').toString());
  event.id = `evt_bench_crm_${i}`;
  event.data.object.id = `cnt_bench_${i}`;
  event.data.object.emails = [{ email: `bench${i}@example.com`, is_primary: true }];
  event.data.object.phone_numbers = [{ phone_number: `+1415555${String(i).padStart(4, '0')}`, is_primary: true }];
  delete event.data.object.company;
  return JSON.stringify(event);
}

async function send(url: string, bodies: string[], secret: string): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < bodies.length) {
        const body = bodies[next++];
        await new Promise<void>((resolve, reject) => {
          const req = http.request(url, { method: 'POST', agent, headers: svixHeaders(secret, body) }, (res) => {
            res.resume();
            res.on('end', () => (res.statusCode === 202 ? resolve() : reject(new Error(`ingest ${res.statusCode}`))));
          });
          req.on('error', reject);
          req.end(body);
        });
      }
    }),
  );
  agent.destroy();
}

async function run(kit: CrmKit, rateLimit?: { max: number; intervalMs: number }) {
  const fake = await kit.start(rateLimit);
  const hub: TestHub = await startHub({ LOG_LEVEL: 'warn', HUB_RETRY_SCHEDULE: '0,1,2,5,10,10,10,10,10,10,10,10' });
  try {
    const secret = whsec();
    const source = await hub
      .api()
      .post('/api/sources')
      .send({ name: 'bench', connector: 'askelephant', secrets: [secret] });
    await hub
      .api()
      .post('/api/destinations')
      .send({ name: kit.name, type: kit.name, config: fake.config, eventTypes: ['contact.*'] })
      .expect(201);
    const bodies = Array.from({ length: RECORDS }, (_, i) => contactUpdated(i));
    const started = Date.now();
    await send(`${hub.baseUrl}/hooks/${source.body.id}`, bodies, secret);
    await waitFor(
      async () => {
        const [row] = await hub.sql<{ done: number }>(
          `SELECT count(*)::int AS done FROM delivery WHERE status NOT IN ('pending', 'retrying', 'sending')`,
        );
        return row.done >= RECORDS;
      },
      { timeoutMs: 600_000, intervalMs: 200, what: 'every CRM delivery to finish' },
    );
    const seconds = (Date.now() - started) / 1000;
    const outcomes = await hub.sql<{ status: string; n: number }>(
      `SELECT status, count(*)::int AS n FROM delivery GROUP BY status ORDER BY status`,
    );
    const breakdown = new Map<string, number>();
    for (const path of fake.paths()) breakdown.set(path, (breakdown.get(path) ?? 0) + 1);
    return {
      breakdown: [...breakdown].map(([path, n]) => `${n} × ${path}`).join('; '),
      seconds,
      recordsPerSecond: RECORDS / seconds,
      requestsPerRecord: fake.requests() / RECORDS,
      throttled: fake.throttled(),
      outcomes: outcomes.map((o) => `${o.status} ${o.n}`).join(', '),
    };
  } finally {
    await hub.close();
    await fake.stop();
  }
}

async function main() {
  console.log(`switchboard CRM bench: ${RECORDS} contact.updated events per scenario into fake CRMs on loopback`);
  for (const kit of KITS) {
    const free = await run(kit);
    console.log(
      `${kit.name.padEnd(10)} unthrottled: ${free.recordsPerSecond.toFixed(0)} records/s, ` +
        `${free.requestsPerRecord.toFixed(3)} HTTP requests per record, ${free.throttled} × 429 (${free.outcomes})`,
    );
    console.log(`           requests: ${free.breakdown}`);
    const tight = await run(kit, { max: 100, intervalMs: 10_000 });
    console.log(
      `${kit.name.padEnd(10)} 100 req / 10 s: backlog done in ${tight.seconds.toFixed(1)} s, ` +
        `${tight.requestsPerRecord.toFixed(3)} requests per record, ${tight.throttled} × 429 (${tight.outcomes})`,
    );
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
