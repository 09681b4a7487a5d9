/*
 * The loopback receiver of pipeline.bench.ts, in its own process so that neither the load generator nor the
 * server under test shares its event loop. Every POST /d/<n> is answered 200 at once; its receipt time
 * (epoch ms with sub-ms precision) and the event it carried go to the parent over IPC, in batches.
 */
import http from 'node:http';

type Receipt = [key: string, destination: number, atMs: number];

const now = () => performance.timeOrigin + performance.now();
let batch: Receipt[] = [];

const server = http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const at = now();
    res.writeHead(200, { 'content-length': '0' }).end();
    try {
      const event = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { vendoreventid?: string; subject?: string };
      const destination = Number((req.url ?? '').split('/')[2] ?? 0);
      batch.push([event.vendoreventid ?? event.subject ?? '?', destination, at]);
    } catch {
      batch.push(['?', 0, at]);
    }
  });
});
server.keepAliveTimeout = 60_000;
server.headersTimeout = 61_000;

setInterval(() => {
  if (!batch.length) return;
  process.send!(batch);
  batch = [];
}, 50);

server.listen(0, '127.0.0.1', () => {
  process.send!({ port: (server.address() as { port: number }).port });
});
process.on('disconnect', () => process.exit(0));
