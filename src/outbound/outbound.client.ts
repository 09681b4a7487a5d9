import axios, { AxiosHeaders, AxiosInstance, AxiosRequestConfig, AxiosResponse } from 'axios';
import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import type { HubConfig } from '../config/hub-config';
import { guardedLookup, OutboundRefusedError, refuseLiteral, urlProblem } from './outbound-guard';
import { headerValueProblem } from './outbound-headers';

/** Issue 7: every outbound attempt ends within this, connect, headers and capped body included. */
export const DEFAULT_DEADLINE_MS = 15_000;
/** What is kept of a response body (DESIGN §5: capped response in the attempt log). */
export const DEFAULT_RESPONSE_CAP_BYTES = 16 * 1024;
/**
 * How long an idle pooled connection is kept. Node lowers this to the receiver's `Keep-Alive: timeout=` hint
 * (minus a second), so a socket the receiver is about to close is not reused.
 */
const IDLE_SOCKET_MS = 30_000;

export interface OutboundRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD';
  url: string;
  headers?: Record<string, string>;
  /** Sent byte for byte (no axios transform), so a signature over it stays valid. */
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
 * The one HTTP client for everything the hub sends out: webhook deliveries now, CRM and enrichment APIs later.
 * axios over keep-alive agents (one connection pool per origin), the SSRF-guarded lookup on every new
 * connection, no redirects, a hard overall deadline and a capped response. It never throws for an HTTP or
 * network failure: the result says what happened, so every attempt can be recorded.
 */
export class OutboundClient {
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;
  private readonly http: AxiosInstance;

  constructor(private readonly allow: HubConfig['outboundAllow']) {
    const lookup = guardedLookup(allow) as unknown as http.AgentOptions['lookup'];
    const agentOptions = { keepAlive: true, timeout: IDLE_SOCKET_MS, lookup };
    this.httpAgent = new http.Agent(agentOptions);
    this.httpsAgent = new https.Agent(agentOptions);
    this.http = axios.create({
      adapter: 'http',
      httpAgent: this.httpAgent,
      httpsAgent: this.httpsAgent,
      // Node's LookupAddress types `family` as number, axios as 4 | 6: the values are the same.
      lookup: guardedLookup(allow) as AxiosRequestConfig['lookup'],
      // A proxy from HTTP(S)_PROXY would make the guard check the proxy, not the target.
      proxy: false,
      // DESIGN §5: no redirects followed; a 3xx is the answer.
      maxRedirects: 0,
      validateStatus: () => true,
      responseType: 'stream',
      // The default transform trims JSON strings; the bytes sent must be the bytes signed.
      transformRequest: [(data: unknown) => data],
      // Kept unlimited here: the cap is applied while streaming, where it can stop the read.
      maxContentLength: -1,
      maxBodyLength: -1,
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

    const invalid = this.invalidRequest(request);
    if (invalid) return finish(invalid);

    const controller = new AbortController();
    let response: AxiosResponse<Readable> | undefined;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
      // Once headers are in, axios no longer watches the signal for the body: close the connection here.
      response?.request?.destroy();
      response?.data.destroy();
    }, deadlineMs);
    try {
      response = await this.http.request<Readable>({
        method: request.method,
        url: request.url,
        headers: request.headers,
        data: request.body,
        signal: controller.signal,
      });
      const { body, truncated } = await readCapped(response.data, cap);
      // Stopping at the cap leaves the rest unread, so this connection cannot be reused: close it.
      if (truncated) (response.request as http.ClientRequest | undefined)?.destroy();
      if (timedOut) throw new Error('deadline');
      return finish({
        statusCode: response.status,
        headers: { ...(response.headers as AxiosHeaders).toJSON() } as http.IncomingHttpHeaders,
        body,
        truncated,
        retryAfterSeconds: parseRetryAfter(response.headers['retry-after'] as string | undefined),
      });
    } catch (err) {
      // A late or broken body is not an answer: the attempt failed, whatever status line came first.
      const during = response ? ` reading the response body (HTTP ${response.status})` : '';
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
   * shutdown, where it could cut a delivery the workers are still draining; idle pooled sockets are unref'd by
   * Node, so they never hold the process open.
   */
  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  /** What can be known before connecting: the URL, an IP-literal target and header values. */
  private invalidRequest(request: OutboundRequest): Omit<OutboundResult, 'durationMs'> | undefined {
    const problem = urlProblem(request.url);
    if (problem) return { errorCode: OutboundErrorCode.InvalidRequest, error: problem };
    const refused = refuseLiteral(new URL(request.url).hostname, this.allow);
    if (refused) return { refused: true, errorCode: OutboundErrorCode.Refused, error: refused };
    for (const [name, value] of Object.entries(request.headers ?? {})) {
      const header = headerProblem(name, value);
      if (header) return { errorCode: OutboundErrorCode.InvalidRequest, error: `header "${name}" ${header}` };
    }
    return undefined;
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

/** Reads up to `cap` bytes; stops there (the caller closes the connection) rather than draining the rest. */
async function readCapped(stream: Readable, cap: number): Promise<{ body: string; truncated: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    if (size + chunk.length > cap) {
      chunks.push(chunk.subarray(0, cap - size));
      // Leaving the loop early destroys the stream; the caller also destroys the request and its socket.
      return { body: Buffer.concat(chunks).toString('utf8'), truncated: true };
    }
    chunks.push(chunk);
    size += chunk.length;
  }
  return { body: Buffer.concat(chunks).toString('utf8'), truncated: false };
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
