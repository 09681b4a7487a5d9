import { Module } from '@nestjs/common';
import { EnrichmentService } from './enrichment.service';

/** Issue 12: fetching what a vendor's event points to. The enrich job (src/pipeline/) drives it. */
@Module({
  providers: [EnrichmentService],
  exports: [EnrichmentService],
})
export class EnrichmentModule {}
