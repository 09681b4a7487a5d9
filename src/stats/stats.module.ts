import { Module } from '@nestjs/common';
import { DeliveryModule } from '../delivery/delivery.module';
import { DestinationsModule } from '../destinations/destinations.module';
import { IngestModule } from '../ingest/ingest.module';
import { SourcesModule } from '../sources/sources.module';
import { StatsController } from './stats.controller';
import { StatsService } from './stats.service';

/** `/api/stats`: the overview's hourly numbers, read through the owning modules' services. */
@Module({
  imports: [DeliveryModule, DestinationsModule, IngestModule, SourcesModule],
  controllers: [StatsController],
  providers: [StatsService],
})
export class StatsModule {}
