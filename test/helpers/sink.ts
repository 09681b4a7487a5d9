import http from 'node:http';
import { AddressInfo } from 'node:net';

export interface SinkRequest {
  headers: http.IncomingHttpHeaders;
  body: string;
  at: number;
}

export interface SinkResponse {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  delayMs?: number;
}

/** A real webhook receiver on 127.0.0.1. Answers from a script of responses, then `fallback` (200). */
export class Sink {
  readonly requests: SinkRequest[] = [];
  private script: SinkResponse[] = [];
  fallback: SinkResponse = { status: 200, body: 'ok' };
  private server!: http.Server;
  url = '';

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.requests.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() });
        const answer = this.script.shift() ?? this.fallback;
        setTimeout(() => {
          res.writeHead(answer.status, answer.headers ?? {});
          res.end(answer.body ?? '');
        }, answer.delayMs ?? 0);
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
    return this;
  }

  respondWith(...responses: SinkResponse[]): void {
    this.script.push(...responses);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
