import http from 'node:http';
import { AddressInfo } from 'node:net';

/** What the next request gets instead of its document. */
export type VendorApiFault =
  | { kind: 'fail'; status?: number }
  | { kind: 'throttle'; retryAfterSeconds: number }
  | { kind: 'hang' }
  | { kind: 'unauthorized' };

export interface VendorApiRequest {
  method: string;
  path: string;
  /** The request carried the expected credential in the expected header. */
  authorized: boolean;
  at: number;
}

/**
 * A vendor API on 127.0.0.1 for the enrichment step (issue 12): one route that answers a JSON document per id,
 * after checking the credential in one header. It can be told to fail (5xx), throttle (429 with Retry-After), hang
 * (never answer), or answer 401 — for the next requests (`failNext`) or for every one until told otherwise
 * (`failAlways`). Requests are recorded, never the credential itself.
 */
export abstract class VendorApiFake {
  readonly requests: VendorApiRequest[] = [];
  /** The documents it serves, by id; tests change them to see a re-fetch. */
  readonly documents = new Map<string, unknown>();
  /** Serves ids without a document of their own (benchmarks); undefined: 404. */
  serveAny?: (id: string) => unknown;
  /** Delay before every answer, like a real API's latency. */
  latencyMs = 0;
  private faults: VendorApiFault[] = [];
  private always?: VendorApiFault;
  private server!: http.Server;
  private readonly hanging = new Set<http.ServerResponse>();
  url = '';

  constructor(readonly apiKey: string) {}

  /** The id in a request path, or undefined when the path is not the fake's route. */
  protected abstract idOf(path: string): string | undefined;
  protected abstract authorized(headers: http.IncomingHttpHeaders): boolean;

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () =>
        this.latencyMs ? setTimeout(() => this.answer(req, res), this.latencyMs) : this.answer(req, res),
      );
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  failNext(...faults: VendorApiFault[]): void {
    this.faults.push(...faults);
  }

  failAlways(fault: VendorApiFault | undefined): void {
    this.always = fault;
  }

  requestsFor(id: string): VendorApiRequest[] {
    return this.requests.filter((r) => this.idOf(r.path) === id);
  }

  async stop(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private answer(req: http.IncomingMessage, res: http.ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0];
    const authorized = this.authorized(req.headers);
    this.requests.push({ method: req.method ?? 'GET', path, authorized, at: Date.now() });
    const json = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    const fault = this.faults.shift() ?? this.always;
    if (fault?.kind === 'hang') {
      this.hanging.add(res);
      res.on('close', () => this.hanging.delete(res));
      return;
    }
    if (fault?.kind === 'unauthorized' || !authorized) return json(401, { error: 'unauthorized' });
    if (fault?.kind === 'fail') return json(fault.status ?? 503, { error: 'unavailable' });
    if (fault?.kind === 'throttle') {
      return json(429, { error: 'rate limited' }, { 'retry-after': String(fault.retryAfterSeconds) });
    }
    const id = req.method === 'GET' ? this.idOf(path) : undefined;
    const document = id === undefined ? undefined : (this.documents.get(id) ?? this.serveAny?.(id));
    if (document === undefined) return json(404, { error: 'not found' });
    json(200, document);
  }
}
