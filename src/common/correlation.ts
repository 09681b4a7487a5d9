import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

const HEADER = 'x-request-id';

/** Fastify's genReqId: honour a caller's X-Request-Id (bounded), else mint one. Stored on the raw request too. */
export function generateCorrelationId(req: IncomingMessage): string {
  const given = req.headers[HEADER];
  const id = typeof given === 'string' && /^[\w.:-]{1,128}$/.test(given) ? given : randomUUID();
  (req as IncomingMessage & { correlationId?: string }).correlationId = id;
  return id;
}

export function correlationIdOf(request: unknown): string {
  const req = request as { id?: string; correlationId?: string; raw?: { correlationId?: string } } | undefined;
  return req?.raw?.correlationId ?? req?.correlationId ?? req?.id ?? randomUUID();
}
