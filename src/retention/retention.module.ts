import { Module } from '@nestjs/common';
import { DeliveryModule } from '../delivery/delivery.module';
import { IngestModule } from '../ingest/ingest.module';
import { RetentionService } from './retention.service';

/** Purges old payloads and attempts in worker processes (HUB_RETENTION_DAYS). */
@Module({ imports: [IngestModule, DeliveryModule], providers: [RetentionService], exports: [RetentionService] })
export class RetentionModule {}
