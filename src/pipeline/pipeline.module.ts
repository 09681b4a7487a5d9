import { BullModule } from '@nestjs/bullmq';
import { DynamicModule, Module } from '@nestjs/common';
import { CanonicalModule } from '../canonical/canonical.module';
import { HUB_CONFIG, HubConfig, HubRole } from '../config/hub-config';
import { DeliveryModule } from '../delivery/delivery.module';
import { DestinationsModule } from '../destinations/destinations.module';
import { IngestModule } from '../ingest/ingest.module';
import { MappingsModule } from '../mappings/mappings.module';
import { RoutingModule } from '../routing/routing.module';
import { SourcesModule } from '../sources/sources.module';
import { EnrichmentModule } from '../enrichment/enrichment.module';
import { ConnectorsModule } from '../connectors/connectors.module';
import { DeliverJob } from './deliver.job';
import { EnrichJob } from './enrich.job';
import { NormalizeJob } from './normalize.job';
import { redisOptions } from './pipeline.queue';
import { ReconcilerService } from './reconciler.service';

/**
 * The asynchronous half of the pipeline: (enrich →) normalize → route → deliver, and the reconciler. The jobs call the
 * owning modules' services, never their tables. Processors exist only in processes with the worker role
 * (HUB_ROLE=worker|all); an api-only process enqueues through PipelineQueue and runs no job.
 *
 * Workers are @nestjs/bullmq processors on the shared connection settings below. Producers are not registered
 * with BullModule.registerQueue: its queues quit their Redis connection on shutdown, which never returns while
 * Redis is down, so PipelineQueue owns them instead (see LifecycleService for the shutdown order).
 */
@Module({})
export class PipelineModule {
  static forRole(role: HubRole): DynamicModule {
    const workers = role !== 'api';
    const processors = workers ? [EnrichJob, NormalizeJob, DeliverJob] : [];
    return {
      module: PipelineModule,
      imports: [
        IngestModule,
        SourcesModule,
        DestinationsModule,
        MappingsModule,
        CanonicalModule,
        RoutingModule,
        DeliveryModule,
        ConnectorsModule,
        EnrichmentModule,
        ...(workers
          ? [
              BullModule.forRootAsync({
                inject: [HUB_CONFIG],
                useFactory: (config: HubConfig) => ({
                  connection: redisOptions(config.redisUrl),
                  prefix: config.queuePrefix,
                }),
              }),
              // No queues: this installs the explorer that turns @Processor classes into workers.
              BullModule.registerQueue(),
            ]
          : []),
      ],
      providers: [ReconcilerService, ...processors],
      // The processors are exported so LifecycleService can drain their workers in order.
      exports: [ReconcilerService, MappingsModule, ...processors],
    };
  }
}
