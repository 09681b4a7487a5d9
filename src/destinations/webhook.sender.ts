import http from 'node:http';
import https from 'node:https';
import type { HubConfig } from '../config/hub-config';
import { guardedLookup, isAllowedAddress, OutboundRefusedError } from './outbound-guard';
import { isIP } from 'node:net';

export const RESPONSE_CAP_BYTES = 16 * 1024;
export const TIMEOUT_MS = 15_000;

export interface SendResult {
  statusCode?: number;
  /** Response body, capped at 16 KiB. */
  body?: string;
  retryAfterSeconds?: number;
  durationMs: number;
  /** Transport-level failure (timeout, refused connection, refused target). */
  error?: string;
  refused?: boolean;
}

/**
 * One POST, no redirects followed (a 3xx is a failure), 15 s timeout, response body read up to the cap.
 * Plain node:http keeps control of the DNS lookup for the SSRF guard.
 */
export function postJson(
  url: string,
  headers: Record<string, string>,
  body: string,
  allow: HubConfig['outboundAllow'],
  timeoutMs = TIMEOUT_MS,
): Promise<SendResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    let settled = false;
    const finish = (result: Omit<SendResult, 'durationMs'>) => {
      if (settled) return;
      settled = true;
      resolve({ ...result, durationMs: Date.now() - started });
    };
    const target = new URL(url);
    // Node skips `lookup` for IP-literal hosts, so those are checked here directly.
    const literal = target.hostname.replace(/^\[|\]$/g, '');
    if (isIP(literal) && !isAllowedAddress(literal, allow)) {
      return finish({
        refused: true,
        error: `${literal} is a private, loopback or link-local address: refused unless HUB_OUTBOUND_ALLOW lists it`,
      });
    }
    const client = target.protocol === 'https:' ? https : http;
    const request = client.request(
      target,
      {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        lookup: guardedLookup(allow) as unknown as http.RequestOptions['lookup'],
        timeout: timeoutMs,
        agent: false,
      },
      (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          if (size < RESPONSE_CAP_BYTES) chunks.push(chunk.subarray(0, RESPONSE_CAP_BYTES - size));
          size += chunk.length;
        });
        response.on('end', () =>
          finish({
            statusCode: response.statusCode,
            body: Buffer.concat(chunks).toString('utf8'),
            retryAfterSeconds: parseRetryAfter(response.headers['retry-after']),
          }),
        );
        response.on('error', (err) => finish({ statusCode: response.statusCode, error: err.message }));
      },
    );
    request.on('timeout', () => request.destroy(new Error(`timed out after ${timeoutMs} ms`)));
    request.on('error', (err) =>
      finish({
        error: err.message,
        refused: err instanceof OutboundRefusedError || (err as NodeJS.ErrnoException).code === 'EOUTBOUNDREFUSED',
      }),
    );
    request.end(body);
  });
}

/** RFC 9110 §10.2.3: delay-seconds or an HTTP-date. */
export function parseRetryAfter(value: string | string[] | undefined): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (!raw) return undefined;
  if (/^\d+$/.test(raw.trim())) return Number(raw.trim());
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}
