import { DynamicModule, Module } from '@nestjs/common';
import type { Logger } from 'pino';
import { AuthModule } from './auth/auth.module';
import { ConnectorsModule } from './connectors/connectors.module';
import { CoreModule } from './core.module';
import { DatabaseModule } from './database/database.module';
import { PipelineModule } from './pipeline/pipeline.module';
import { DeliveriesModule } from './deliveries/deliveries.module';
import { DestinationsModule } from './destinations/destinations.module';
import { EventsModule } from './events/events.module';
import { HealthModule } from './health/health.module';
import { IngestModule } from './ingest/ingest.module';
import { IssuesModule } from './issues/issues.module';
import { LifecycleService } from './lifecycle.service';
import { OutboundModule } from './outbound/outbound.module';
import { RetentionModule } from './retention/retention.module';
import { SourcesModule } from './sources/sources.module';
import { StatsModule } from './stats/stats.module';
import { HubConfig } from './config/hub-config';

@Module({})
export class AppModule {
  static forRoot(config: HubConfig, logger: Logger): DynamicModule {
    return {
      module: AppModule,
      imports: [
        CoreModule.forRoot(config, logger),
        DatabaseModule,
        AuthModule,
        OutboundModule,
        ConnectorsModule,
        SourcesModule,
        DestinationsModule,
        IngestModule,
        PipelineModule.forRole(config.role),
        EventsModule,
        RetentionModule,
        DeliveriesModule,
        IssuesModule,
        StatsModule,
        HealthModule,
      ],
      providers: [LifecycleService],
    };
  }
}
