import { randomBytes } from 'node:crypto';
import { FAULT_API_KEY } from './env';
import { LoadRequest } from './load-generator';
import { VerifyingSink } from './verifying-sink';

/** The management API over HTTP, as an operator would call it. Throws on any answer but the expected one. */
export async function api<T = Record<string, unknown>>(
  baseUrl: string,
  method: string,
  path: string,
  body?: unknown,
  expected = [200, 201],
): Promise<T> {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${FAULT_API_KEY}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await response.text();
  if (!expected.includes(response.status)) {
    throw new Error(`${method} ${path} answered ${response.status}: ${text.slice(0, 500)}`);
  }
  return (text ? JSON.parse(text) : {}) as T;
}

export interface CreatedSource {
  id: string;
  url: string;
}

export function createSource(baseUrl: string, connector: string, secrets?: string[]): Promise<CreatedSource> {
  return api<CreatedSource>(baseUrl, 'POST', '/api/sources', { name: `fault ${connector}`, connector, secrets });
}

/** A destination for every event type, pointing at one sink route that verifies with the secret the hub generated. */
export async function createSinkDestination(
  baseUrl: string,
  sink: VerifyingSink,
  route: string,
  mode: 'ok' | 'trickle' = 'ok',
): Promise<{ id: string; secret: string }> {
  const created = await api<{ id: string; secret: string }>(baseUrl, 'POST', '/api/destinations', {
    name: `fault ${route}`,
    type: 'webhook',
    url: sink.url(route),
    eventTypes: ['*'],
  });
  sink.route(route, created.secret, mode);
  return created;
}

/**
 * A distinct Sales Ask recording.processed delivery (url-token: no signing, the cheapest to send). Sales Ask
 * dedups on the body hash, so a unique recording id makes a distinct inbound event.
 */
export function salesAskRequest(hubBaseUrl: string, sourceId: string, tag: string): LoadRequest {
  const id = `rec_${tag}_${randomBytes(4).toString('hex')}`;
  return {
    url: `${hubBaseUrl}/hooks/${sourceId}`,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      event: 'recording.processed',
      data: {
        id,
        name: `Fault suite call ${tag}`,
        actionItems: 'Action items from meeting\n- Follow up on quote\nClient action items\n- Send contract',
        notes: 'Rep discussed pricing and timeline.',
        meetingUrl: `https://app.salesask.com/meetings/${id}`,
        process: '1. Discovery question: \nAnswer: Yes',
        processFollowed: 3,
        processMissed: 1,
        processTotal: 4,
      },
    }),
  };
}
