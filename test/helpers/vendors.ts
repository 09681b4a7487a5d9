import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Webhook as SvixWebhook } from 'svix';

export const ROOT = join(__dirname, '..', '..');

export function sample(connector: string, file: string): Buffer {
  return readFileSync(join(ROOT, 'connectors', connector, 'samples', file));
}

export function whsec(): string {
  return `whsec_${randomBytes(24).toString('base64')}`;
}

/** Signs like Svix does for AskElephant: svix-id, svix-timestamp, svix-signature. */
export function svixHeaders(
  secret: string,
  body: Buffer | string,
  at = new Date(),
  id = `msg_${randomBytes(8).toString('hex')}`,
) {
  const payload = body.toString();
  return {
    'content-type': 'application/json',
    'svix-id': id,
    'svix-timestamp': String(Math.floor(at.getTime() / 1000)),
    'svix-signature': new SvixWebhook(secret).sign(id, at, payload),
  };
}

/** Asan CRM: X-Asan-Signature = hex HMAC-SHA256 of the raw body. */
export function asanHeaders(secret: string, body: Buffer | string) {
  return {
    'content-type': 'application/json',
    'x-asan-signature': createHmac('sha256', secret).update(body).digest('hex'),
  };
}

/** The documented Sales Ask sample with its recording id replaced: a distinct body, so a distinct event (body-hash dedup). */
export function salesAskRecording(recordingId: string): string {
  const body = JSON.parse(sample('salesask', 'recording.processed.json').toString());
  return JSON.stringify({ ...body, data: { ...body.data, id: recordingId } });
}
