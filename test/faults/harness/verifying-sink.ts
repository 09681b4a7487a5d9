import http from 'node:http';
import { Socket } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { freePort } from './env';

export interface Arrival {
  route: string;
  webhookId: string;
  /** The CloudEvent id from the verified body. */
  eventId: string;
  at: number;
}

type RouteMode = 'ok' | 'trickle';

/** How often a trickling route sends its next byte: below the hub's 15 s idle timeout, so only a deadline stops it. */
const TRICKLE_INTERVAL_MS = 3000;

/**
 * A webhook receiver on 127.0.0.1 that verifies every request's Standard Webhooks signature with its route's
 * whsec_ secret and records each verified arrival. Routes are `/r/<name>`, one per destination. It can go down
 * (the port refuses connections) and come back on the same port, and a route can trickle: headers, then one
 * byte every few seconds, never finishing.
 */
export class VerifyingSink {
  readonly arrivals: Arrival[] = [];
  /** Requests whose signature did not verify (or had no route): each one is a hub bug. */
  readonly rejected: { route: string; reason: string }[] = [];
  /** Requests a trickling route accepted (they are never answered in full). */
  trickled = 0;
  private readonly secrets = new Map<string, string>();
  private readonly modes = new Map<string, RouteMode>();
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private server?: http.Server;
  port = 0;

  url(route: string): string {
    return `http://127.0.0.1:${this.port}/r/${route}`;
  }

  route(route: string, secret: string, mode: RouteMode = 'ok'): void {
    this.secrets.set(route, secret);
    this.modes.set(route, mode);
  }

  arrivalsOf(route: string): Arrival[] {
    return this.arrivals.filter((a) => a.route === route);
  }

  async start(): Promise<this> {
    if (!this.port) this.port = await freePort();
    const server = http.createServer((req, res) => this.handle(req, res));
    server.keepAliveTimeout = 5000;
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    return this;
  }

  /** Down: the listener closes and every open connection is destroyed, so the hub sees refused connections. */
  async stop(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    this.timers.clear();
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const route = /^\/r\/([^/?]+)/.exec(req.url ?? '')?.[1] ?? '';
      const secret = this.secrets.get(route);
      if (!secret) {
        this.rejected.push({ route, reason: `no route ${req.url}` });
        res.writeHead(404).end();
        return;
      }
      if (this.modes.get(route) === 'trickle') {
        this.trickle(res);
        return;
      }
      const body = Buffer.concat(chunks).toString('utf8');
      const webhookId = String(req.headers['webhook-id'] ?? '');
      let event: { id?: string };
      try {
        event = new Webhook(secret).verify(body, {
          'webhook-id': webhookId,
          'webhook-timestamp': String(req.headers['webhook-timestamp'] ?? ''),
          'webhook-signature': String(req.headers['webhook-signature'] ?? ''),
        }) as { id?: string };
      } catch (err) {
        this.rejected.push({ route, reason: (err as Error).message });
        res.writeHead(401).end('bad signature');
        return;
      }
      this.arrivals.push({ route, webhookId, eventId: String(event.id), at: Date.now() });
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  }

  private trickle(res: http.ServerResponse): void {
    this.trickled++;
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.flushHeaders();
    const timer = setInterval(() => res.write('.'), TRICKLE_INTERVAL_MS);
    this.timers.add(timer);
    res.once('close', () => {
      clearInterval(timer);
      this.timers.delete(timer);
    });
  }
}
