import { Module } from '@nestjs/common';
import { CanonicalModule } from '../canonical/canonical.module';
import { ConnectorsModule } from '../connectors/connectors.module';
import { DeliveryModule } from '../delivery/delivery.module';
import { DestinationsModule } from '../destinations/destinations.module';
import { IngestModule } from '../ingest/ingest.module';
import { RoutingModule } from '../routing/routing.module';
import { SourcesModule } from '../sources/sources.module';
import { EventsController } from './events.controller';
import { EventsService } from './events.service';

@Module({
  imports: [
    IngestModule,
    CanonicalModule,
    DeliveryModule,
    SourcesModule,
    ConnectorsModule,
    DestinationsModule,
    RoutingModule,
  ],
  controllers: [EventsController],
  providers: [EventsService],
  exports: [EventsService],
})
export class EventsModule {}
