import http from 'node:http';
import { VendorApiFake } from './vendor-api.fake';

/**
 * Sales Ask's `GET /v1/recordings/:id` (salesask.txt: "Use with GET /v1/recordings/:id for full details"), behind
 * `x-api-key`. The document lists no response fields: this fake serves a plausible recording with a transcript,
 * duration and participants; the mapping's variant specs cover other shapes.
 */
export class SalesAskApiFake extends VendorApiFake {
  protected idOf(path: string): string | undefined {
    return /^\/v1\/recordings\/([^/]+)$/.exec(path)?.[1];
  }

  protected authorized(headers: http.IncomingHttpHeaders): boolean {
    return headers['x-api-key'] === this.apiKey;
  }

  serveRecording(recordingId: string, lines: [string, string][], durationSeconds = 754): void {
    this.documents.set(recordingId, {
      id: recordingId,
      name: 'Call with John Doe',
      status: 'processed',
      startedAt: '2026-03-09T15:00:00.000Z',
      duration: durationSeconds,
      participants: [
        { name: 'Rita Rep', email: 'rita@seller.example', role: 'rep' },
        { name: 'John Doe', email: 'john@buyer.example', role: 'client' },
      ],
      transcript: lines.map(([speaker, text], i) => ({ speaker, text, start: i * 5 })),
      language: 'en',
    });
  }
}
