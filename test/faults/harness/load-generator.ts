import http from 'node:http';
import { percentile } from './env';

export interface LoadRequest {
  /** Full URL, e.g. http://127.0.0.1:3000/hooks/src_… */
  url: string;
  headers: Record<string, string>;
  body: Buffer | string;
}

export interface LoadResult {
  index: number;
  /** When the request was due (open loop: latency counts from here, so a stalled hub cannot hide its stall). */
  dueAt: number;
  doneAt: number;
  status?: number;
  retryAfter?: string;
  /** The inbound id of a 202/200 answer. */
  inboundId?: string;
  error?: string;
}

export interface LoadReport {
  results: LoadResult[];
  /** 202/200 answers with an inbound id: what the hub promised to deliver. */
  acks: LoadResult[];
  statusCounts: Record<string, number>;
  p50Ms: number | null;
  p99Ms: number | null;
  durationMs: number;
}

export interface LoadPlan {
  /** Requests per second, fixed. */
  rate: number;
  count: number;
  request: (index: number) => LoadRequest;
  /** Per-request bound; a hub that does not answer in time counts as an error, never as an ack. */
  timeoutMs?: number;
}

/**
 * Open-loop load: request i is due at start + i / rate, whatever happened to the requests before it (no
 * coordinated omission). Bounded by `count`, and every request by `timeoutMs`.
 */
export async function runOpenLoop(plan: LoadPlan): Promise<LoadReport> {
  const started = Date.now();
  const intervalMs = 1000 / plan.rate;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 512 });
  const pending: Promise<LoadResult>[] = [];
  for (let index = 0; index < plan.count; index++) {
    const dueAt = started + index * intervalMs;
    const wait = dueAt - Date.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    pending.push(send(index, dueAt, plan.request(index), plan.timeoutMs ?? 15_000, agent));
  }
  const results = await Promise.all(pending);
  agent.destroy();
  const statusCounts: Record<string, number> = {};
  for (const r of results) {
    const key = r.status ? String(r.status) : `error: ${r.error}`;
    statusCounts[key] = (statusCounts[key] ?? 0) + 1;
  }
  const latencies = results.filter((r) => r.status).map((r) => r.doneAt - r.dueAt);
  return {
    results,
    acks: results.filter((r) => (r.status === 202 || r.status === 200) && r.inboundId),
    statusCounts,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    durationMs: Date.now() - started,
  };
}

/** One request, never rejecting: the outcome is data. */
export function send(
  index: number,
  dueAt: number,
  request: LoadRequest,
  timeoutMs: number,
  agent?: http.Agent,
): Promise<LoadResult> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (partial: Omit<LoadResult, 'index' | 'dueAt' | 'doneAt'>) => {
      if (settled) return;
      settled = true;
      resolve({ index, dueAt, doneAt: Date.now(), ...partial });
    };
    const body = typeof request.body === 'string' ? Buffer.from(request.body) : request.body;
    const req = http.request(request.url, {
      method: 'POST',
      agent,
      headers: { ...request.headers, 'content-length': String(body.length) },
    });
    const timer = setTimeout(() => {
      req.destroy(new Error(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        clearTimeout(timer);
        let inboundId: string | undefined;
        try {
          inboundId = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id?: string }).id;
        } catch {
          inboundId = undefined;
        }
        const retryAfter = res.headers['retry-after'];
        finish({
          status: res.statusCode,
          inboundId,
          retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
        });
      });
      res.on('error', (err) => finish({ status: res.statusCode, error: err.message }));
    });
    req.on('error', (err) => {
      clearTimeout(timer);
      finish({ error: (err as NodeJS.ErrnoException).code ?? err.message });
    });
    req.end(body);
  });
}
