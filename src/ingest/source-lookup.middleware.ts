import { Injectable, NestMiddleware } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { MetricsService } from '../metrics/metrics.service';
import { LoadedSource, SourceService } from '../sources/source.service';
import { IngestErrorCode, IngestException } from './ingest.exception';

export type RequestWithSource = IncomingMessage & { hubSource?: LoadedSource; originalUrl?: string };

/**
 * Runs at Fastify's onRequest stage, before the body is read, so an unknown source answers 404 before an
 * oversized body answers 413 (DESIGN §7 rejection order), and no body is buffered for a source that doesn't exist.
 */
@Injectable()
export class SourceLookupMiddleware implements NestMiddleware {
  constructor(
    private readonly sources: SourceService,
    private readonly metrics: MetricsService,
  ) {}

  async use(req: RequestWithSource, _res: ServerResponse, next: () => void): Promise<void> {
    // middie strips the mount path from req.url; originalUrl keeps `/hooks/<id>`.
    const path = (req.originalUrl ?? req.url ?? '').split('?')[0];
    const sourceId = decodeURIComponent(path.split('/').filter(Boolean)[1] ?? '');
    let loaded: LoadedSource | null;
    try {
      loaded = await this.sources.loadForIngest(sourceId);
    } catch {
      throw new IngestException(IngestErrorCode.StoreUnavailable, 'Storage is unavailable; retry later');
    }
    if (!loaded) {
      this.metrics.ingested.inc({ connector: '', outcome: 'rejected', reason: IngestErrorCode.UnknownSource });
      throw new IngestException(IngestErrorCode.UnknownSource, 'Unknown or disabled source');
    }
    req.hubSource = loaded;
    next();
  }
}
