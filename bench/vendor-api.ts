/*
 * The fake Sales Ask API (test/fakes) as its own process for enrichment.bench.ts, so that serving the documents
 * costs the hub's process nothing: it takes its key from BENCH_API_KEY, reports `{port}` over IPC and answers every recording id after
 * BENCH_API_LATENCY_MS, with a 40-line transcript.
 */
import { SalesAskApiFake } from '../test/fakes/salesask-api.fake';

async function main() {
  const api = await new SalesAskApiFake(process.env.BENCH_API_KEY!).start();
  api.latencyMs = Number(process.env.BENCH_API_LATENCY_MS ?? 50);
  api.serveAny = (id) => {
    if (api.requests.length > 10_000) api.requests.length = 0; // the fake records requests for tests; not needed here
    return {
      id,
      status: 'processed',
      startedAt: '2026-03-09T15:00:00.000Z',
      duration: 754,
      participants: [{ name: 'Rita Rep', role: 'rep' }],
      transcript: Array.from({ length: 40 }, (_, i) => ({
        speaker: i % 2 ? 'John Doe' : 'Rita Rep',
        text: `Line ${i} of the call.`,
        start: i * 5,
      })),
    };
  };
  process.send!({ port: Number(new URL(api.url).port) });
  process.on('disconnect', () => void api.stop().then(() => process.exit(0)));
}

void main();
