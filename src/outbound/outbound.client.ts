import { EventEmitter } from 'node:events';
import http from 'node:http';
import type net from 'node:net';
import type { Readable } from 'node:stream';
import { Agent } from 'undici';
import { BoundedMemo } from '../common/bounded-memo';
import type { HubConfig } from '../config/hub-config';
import { guardedLookup, OutboundRefusedError, refuseLiteral, urlProblem } from './outbound-guard';
import { headerValueProblem } from './outbound-headers';

/** Issue 7: every outbound attempt ends within this, connect, headers and capped body included. */
export const DEFAULT_DEADLINE_MS = 15_000;
/** What is kept of a response body (DESIGN §5: capped response in the attempt log). */
export const DEFAULT_RESPONSE_CAP_BYTES = 16 * 1024;
/**
 * How long an idle pooled connection is kept at most. undici lowers it to the receiver's `Keep-Alive: timeout=` hint
 * (minus two seconds), so a socket the receiver is about to close is not reused.
 */
const IDLE_SOCKET_MS = 30_000;

export interface OutboundRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD';
  url: string;
  headers?: Record<string, string>;
  /** Sent byte for byte, so a signature over it stays valid. */
  body?: string | Buffer;
  /** Overall deadline: connect, request, headers and the capped body. */
  deadlineMs?: number;
  responseCapBytes?: number;
}

/** Why an attempt produced no usable HTTP answer; absent when the receiver answered. */
export enum OutboundErrorCode {
  /** The target is a private, loopback or link-local address that HUB_OUTBOUND_ALLOW does not list. */
  Refused = 'refused',
  TimedOut = 'timed_out',
  /** The request itself cannot be sent: a bad URL or header value. Retrying cannot help. */
  InvalidRequest = 'invalid_request',
  /** DNS, connect, TLS or a connection broken mid-answer: usually worth a retry. */
  Network = 'network',
}

export interface OutboundResult {
  /** Set only when a complete (or deliberately truncated) answer came back. */
  statusCode?: number;
  headers?: http.IncomingHttpHeaders;
  /** The response body as UTF-8, at most `responseCapBytes` bytes of it. */
  body?: string;
  /** The body was longer than the cap: reading stopped there and the connection was closed. */
  truncated?: boolean;
  retryAfterSeconds?: number;
  durationMs: number;
  /** Human-readable reason when there is no usable answer. Never contains header values. */
  error?: string;
  errorCode?: OutboundErrorCode;
  refused?: boolean;
  timedOut?: boolean;
}

/**
 * The one HTTP client for everything the hub sends out: webhook deliveries, CRM and enrichment APIs. undici over a
 * keep-alive pool per origin (issue 11: measured at about a fifth of axios's CPU per request, see bench/README.md),
 * the SSRF-guarded lookup on every new connection, no redirects, no proxy from the environment, a hard overall
 * deadline and a capped response. It never throws for an HTTP or network failure: the result says what happened,
 * so every attempt can be recorded.
 */
export class OutboundClient {
  private readonly agent: Agent;
  /** Each target URL's check (issue 11: every delivery to a destination repeats it): the parsed URL, or why not. */
  private readonly targets = new BoundedMemo<string, URL | Omit<OutboundResult, 'durationMs'>>(1024);

  constructor(private readonly allow: HubConfig['outboundAllow']) {
    this.agent = new Agent({
      keepAliveTimeout: IDLE_SOCKET_MS,
      keepAliveMaxTimeout: IDLE_SOCKET_MS,
      // net.connect's lookup: every new connection to a hostname goes through the guard.
      connect: { lookup: guardedLookup(allow) as unknown as net.LookupFunction },
    });
  }

  async request(request: OutboundRequest): Promise<OutboundResult> {
    const started = performance.now();
    const deadlineMs = request.deadlineMs ?? DEFAULT_DEADLINE_MS;
    const cap = request.responseCapBytes ?? DEFAULT_RESPONSE_CAP_BYTES;
    const finish = (result: Omit<OutboundResult, 'durationMs'>): OutboundResult => ({
      ...result,
      durationMs: Math.round(performance.now() - started),
    });

    const url = this.check(request);
    if (!(url instanceof URL)) return finish(url);

    // One signal for the whole attempt: aborting it ends the wait for headers or the body read, and closes the
    // connection (an unfinished answer leaves it unusable).
    const signal = new EventEmitter();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      signal.emit('abort');
    }, deadlineMs);
    let status: number | undefined;
    try {
      const response = await this.agent.request({
        origin: url.origin,
        path: `${url.pathname}${url.search}`,
        method: request.method,
        headers: request.headers,
        body: request.body,
        signal,
        // The deadline above is the one that counts; undici's own timers only back it up.
        headersTimeout: deadlineMs + 1000,
        bodyTimeout: deadlineMs + 1000,
      });
      status = response.statusCode;
      const { body, truncated } = await readCapped(response.body, cap);
      if (timedOut) throw new Error('deadline');
      return finish({
        statusCode: response.statusCode,
        headers: response.headers as http.IncomingHttpHeaders,
        body,
        truncated,
        retryAfterSeconds: parseRetryAfter(response.headers['retry-after']),
      });
    } catch (err) {
      // A late or broken body is not an answer: the attempt failed, whatever status line came first.
      const during = status === undefined ? '' : ` reading the response body (HTTP ${status})`;
      if (timedOut) {
        return finish({
          timedOut: true,
          errorCode: OutboundErrorCode.TimedOut,
          error: `timed out after ${deadlineMs} ms${during}`,
        });
      }
      return finish(describeFailure(err, during));
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Closes pooled connections, in-flight ones included: for tests and scripts. The hub never calls it at
   * shutdown, where it could cut a delivery the workers are still draining; undici unrefs a pool's sockets while
   * it has nothing in flight, so they never hold the process open.
   */
  close(): void {
    void this.agent.destroy().catch(() => undefined);
  }

  /**
   * What can be known before connecting: the URL, an IP-literal target and header values. Returns the URL, parsed
   * once for the request, when all are sound; otherwise the result that says why not.
   */
  private check(request: OutboundRequest): URL | Omit<OutboundResult, 'durationMs'> {
    const target = this.targets.get(request.url, (url) => this.checkTarget(url));
    if (!(target instanceof URL)) return target;
    for (const [name, value] of Object.entries(request.headers ?? {})) {
      const header = headerProblem(name, value);
      if (header) return { errorCode: OutboundErrorCode.InvalidRequest, error: `header "${name}" ${header}` };
    }
    return target;
  }

  /** The URL and an IP-literal target; a hostname is checked on each new connection (guardedLookup). */
  private checkTarget(raw: string): URL | Omit<OutboundResult, 'durationMs'> {
    const problem = urlProblem(raw);
    if (problem) return { errorCode: OutboundErrorCode.InvalidRequest, error: problem };
    const url = new URL(raw);
    const refused = refuseLiteral(url.hostname, this.allow);
    if (refused) return { refused: true, errorCode: OutboundErrorCode.Refused, error: refused };
    return url;
  }
}

function headerProblem(name: string, value: string): string | undefined {
  try {
    http.validateHeaderName(name);
  } catch {
    return 'is not a valid header name';
  }
  return typeof value === 'string' ? headerValueProblem(value) : 'must be a string';
}

/**
 * Reads up to `cap` bytes; stops there rather than draining the rest. Stopping early destroys the body, which makes
 * undici close that connection: the unread rest leaves it unusable. Stream events, not `for await`: the async
 * iterator costs more per answer than the few chunks of a typical one are worth (issue 11).
 */
function readCapped(stream: Readable, cap: number): Promise<{ body: string; truncated: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on('data', (chunk: Buffer) => {
      if (size + chunk.length > cap) {
        chunks.push(chunk.subarray(0, cap - size));
        stream.destroy();
        resolve({ body: Buffer.concat(chunks).toString('utf8'), truncated: true });
        return;
      }
      chunks.push(chunk);
      size += chunk.length;
    });
    stream.once('end', () => resolve({ body: Buffer.concat(chunks).toString('utf8'), truncated: false }));
    // Whatever comes first settles it; a later error or close is then a no-op, but keeps a listener.
    stream.on('error', reject);
    stream.once('close', () => reject(new Error('the connection closed before the response body ended')));
  });
}

function describeFailure(err: unknown, during: string): Omit<OutboundResult, 'durationMs'> {
  const cause = (err as { cause?: unknown }).cause;
  const refused =
    err instanceof OutboundRefusedError ||
    cause instanceof OutboundRefusedError ||
    (err as NodeJS.ErrnoException).code === 'EOUTBOUNDREFUSED';
  const message = (cause instanceof Error ? cause.message : undefined) ?? (err as Error).message ?? String(err);
  if (refused) return { refused: true, errorCode: OutboundErrorCode.Refused, error: message };
  // Node's own header checks (ERR_INVALID_CHAR, ERR_INVALID_HTTP_TOKEN) would name the value: keep only the code.
  const code = (err as NodeJS.ErrnoException).code ?? (cause as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ERR_INVALID_CHAR' || code === 'ERR_INVALID_HTTP_TOKEN' || code === 'ERR_HTTP_INVALID_HEADER_VALUE') {
    return { errorCode: OutboundErrorCode.InvalidRequest, error: `invalid request header (${code})` };
  }
  return { errorCode: OutboundErrorCode.Network, error: `${message}${during}` };
}

/** RFC 9110 §10.2.3: delay-seconds or an HTTP-date. */
export function parseRetryAfter(value: string | string[] | undefined): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (!raw) return undefined;
  if (/^\d+$/.test(raw.trim())) return Number(raw.trim());
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}
