/*
 * Load for the benches. Two shapes:
 * - open loop: request i is due at start + i/rate whatever happened to earlier ones; its latency and its
 *   end-to-end time count from that due time, not from when it actually left, so a server that stalls is charged
 *   for the whole stall (no coordinated omission). Requests never wait for each other: the agent's socket limit is
 *   far above what a healthy server needs at these rates.
 * - closed loop: `connections` senders, each sending its next request as soon as the last was answered: the
 *   server's maximum ack rate, for a number of seconds or of requests.
 */
import http from 'node:http';

export const nowMs = () => performance.timeOrigin + performance.now();

export interface Request {
  path: string;
  body: string;
  headers: Record<string, string>;
  /** The key the sink will see (vendor event id or subject), for end-to-end times. */
  key: string;
}

export interface LoadResult {
  sent: number;
  acked: number;
  errors: number;
  /** Ack latencies (ms), from the due time. */
  latencies: number[];
  seconds: number;
  /** Due time of each acked request, by key: where end-to-end time starts. */
  sentAt: Map<string, number>;
  startedAt: number;
  endedAt: number;
}

function post(base: string, agent: http.Agent, request: Request): Promise<number> {
  return new Promise((resolve) => {
    const req = http.request(`${base}${request.path}`, { method: 'POST', agent, headers: request.headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
    req.end(request.body);
  });
}

function emptyResult(seconds: number): LoadResult {
  return {
    sent: 0,
    acked: 0,
    errors: 0,
    latencies: [],
    seconds,
    sentAt: new Map(),
    startedAt: nowMs(),
    endedAt: 0,
  };
}

export async function openLoop(
  base: string,
  rate: number,
  seconds: number,
  next: (i: number) => Request,
): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1024 });
  const total = Math.round(rate * seconds);
  const result = emptyResult(seconds);
  const inFlight: Promise<void>[] = [];
  const start = result.startedAt;
  await new Promise<void>((done) => {
    const tick = () => {
      const now = nowMs();
      while (result.sent < total && start + (result.sent * 1000) / rate <= now) {
        const due = start + (result.sent * 1000) / rate;
        const request = next(result.sent++);
        inFlight.push(
          post(base, agent, request).then((status) => {
            if (status === 202 || status === 200) {
              result.acked++;
              result.latencies.push(nowMs() - due);
              result.sentAt.set(request.key, due);
            } else result.errors++;
          }),
        );
      }
      if (result.sent >= total) return done();
      setTimeout(tick, 1);
    };
    tick();
  });
  result.endedAt = start + seconds * 1000;
  await Promise.all(inFlight);
  agent.destroy();
  return result;
}

/** `length`: a number of seconds, or `{ requests }` to stop after sending that many. */
export async function closedLoop(
  base: string,
  connections: number,
  length: number | { requests: number },
  next: (i: number) => Request,
): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const result = emptyResult(typeof length === 'number' ? length : 0);
  const stopAt = typeof length === 'number' ? result.startedAt + length * 1000 : Infinity;
  const limit = typeof length === 'number' ? Infinity : length.requests;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (nowMs() < stopAt && result.sent < limit) {
        const request = next(result.sent++);
        const t0 = nowMs();
        const status = await post(base, agent, request);
        if (status === 202 || status === 200) {
          result.acked++;
          result.latencies.push(nowMs() - t0);
          result.sentAt.set(request.key, t0);
        } else result.errors++;
      }
    }),
  );
  result.endedAt = nowMs();
  result.seconds = (result.endedAt - result.startedAt) / 1000;
  agent.destroy();
  return result;
}

export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
