import http from 'node:http';
import { VendorApiFake } from './vendor-api.fake';

/**
 * AskElephant's `GET /v2/engagements/{id}/transcript_timeline` (askelephant.txt, "Transcript timeline completion"),
 * behind `Authorization: Bearer <key>` (the document names no scheme; connector.yaml declares this one). The
 * answer's shape is undocumented: this fake serves one plausible shape, `{engagement_id, segments[{speaker{name},
 * text, start_time, end_time, sentiment}]}`; the mapping's variant specs cover others.
 */
export class AskElephantApiFake extends VendorApiFake {
  protected idOf(path: string): string | undefined {
    return /^\/v2\/engagements\/([^/]+)\/transcript_timeline$/.exec(path)?.[1];
  }

  protected authorized(headers: http.IncomingHttpHeaders): boolean {
    return headers.authorization === `Bearer ${this.apiKey}`;
  }

  /** Serves a timeline for this engagement: each line `[speaker, text]`, four seconds apart. */
  serveTimeline(engagementId: string, lines: [string, string][]): void {
    this.documents.set(engagementId, {
      engagement_id: engagementId,
      language: 'en',
      segments: lines.map(([speaker, text], i) => ({
        speaker: { name: speaker },
        text,
        start_time: i * 4,
        end_time: i * 4 + 3.5,
        sentiment: 'neutral',
      })),
    });
  }
}
