import { Module } from '@nestjs/common';
import { DestinationsModule } from '../destinations/destinations.module';
import { MappingService } from '../mappings/mapping.service';
import { NormalizeJob } from '../mappings/normalize.job';
import { RoutingService } from '../routing/routing.service';
import { DeliverJob } from './deliver.job';
import { ReconcilerService } from './reconciler.service';
import { WorkersService } from './workers.service';

/** The asynchronous half of the pipeline: normalize → route → deliver, plus the reconciler. */
@Module({
  imports: [DestinationsModule],
  providers: [MappingService, RoutingService, NormalizeJob, DeliverJob, ReconcilerService, WorkersService],
  exports: [MappingService, NormalizeJob, ReconcilerService],
})
export class PipelineModule {}
