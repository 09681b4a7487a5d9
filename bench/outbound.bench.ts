/*
 * The outbound client alone (issue 11): `npx ts-node --transpile-only bench/outbound.bench.ts`. POSTs a 600-byte
 * body to a loopback sink in this process, 16 at a time over keep-alive, with the hub's OutboundClient (undici, the
 * SSRF guard, the deadline and the capped read) and with bare node:http for reference. Prints requests/s and CPU
 * µs per request, the sink's share included (the same for both). Figures only.
 */
import * as ipaddr from 'ipaddr.js';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import { OutboundClient } from '../src/outbound/outbound.client';

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 20_000);
const CONCURRENCY = 16;

async function measure(name: string, send: () => Promise<unknown>): Promise<void> {
  for (let i = 0; i < 500; i++) await send();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let started = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (started++ < REQUESTS) await send();
    }),
  );
  const cpu = process.cpuUsage(cpu0);
  const seconds = (performance.now() - t0) / 1000;
  console.log(
    `${name.padEnd(28)} ${(REQUESTS / seconds).toFixed(0).padStart(6)} req/s  ` +
      `${((cpu.user + cpu.system) / REQUESTS).toFixed(0).padStart(4)} µs CPU per request (sink included)`,
  );
}

async function main() {
  const sink = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end('ok'));
  });
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
  const { port } = sink.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}/d`;
  const body = JSON.stringify({ data: 'x'.repeat(590) });
  const headers = { 'content-type': 'application/json' };

  const client = new OutboundClient([ipaddr.parseCIDR('127.0.0.0/8')]);
  const agent = new http.Agent({ keepAlive: true });
  const bare = () =>
    new Promise<void>((resolve, reject) => {
      const req = http.request({ agent, host: '127.0.0.1', port, path: '/d', method: 'POST', headers }, (res) => {
        res.resume();
        res.on('end', resolve);
      });
      req.on('error', reject);
      req.end(body);
    });
  for (let round = 0; round < 2; round++) {
    await measure('OutboundClient (undici)', () => client.request({ method: 'POST', url, headers, body }));
    await measure('bare node:http, keep-alive', bare);
  }
  client.close();
  agent.destroy();
  sink.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
