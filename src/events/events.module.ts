import { Module } from '@nestjs/common';
import { CanonicalModule } from '../canonical/canonical.module';
import { DeliveryModule } from '../delivery/delivery.module';
import { IngestModule } from '../ingest/ingest.module';
import { EventsController } from './events.controller';
import { EventsService } from './events.service';

@Module({
  imports: [IngestModule, CanonicalModule, DeliveryModule],
  controllers: [EventsController],
  providers: [EventsService],
})
export class EventsModule {}
