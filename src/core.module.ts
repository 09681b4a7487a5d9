import { DynamicModule, Global, Module } from '@nestjs/common';
import type { Logger } from 'pino';
import { ApiKeyGuard } from './auth/api-key.guard';
import { ApiKeyService } from './auth/api-key.service';
import { SessionService } from './auth/session.service';
import { ROOT_LOGGER } from './common/logger';
import { secretBoxProvider } from './common/secret-box.provider';
import { HUB_CONFIG, HubConfig } from './config/hub-config';
import { MetricsService } from './metrics/metrics.service';
import { PipelineQueue } from './pipeline/pipeline.queue';

/** Process-wide singletons every feature may use: configuration, logger, secret box, metrics, the pipeline's queue producer, API key and console sessions. */
@Global()
@Module({})
export class CoreModule {
  static forRoot(config: HubConfig, logger: Logger): DynamicModule {
    const providers = [
      { provide: HUB_CONFIG, useValue: config },
      { provide: ROOT_LOGGER, useValue: logger },
      secretBoxProvider,
      MetricsService,
      PipelineQueue,
      ApiKeyService,
      SessionService,
      ApiKeyGuard,
    ];
    return { module: CoreModule, providers, exports: providers };
  }
}
