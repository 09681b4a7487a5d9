import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { MetricsController } from '../metrics/metrics.controller';
import { HealthController } from './health.controller';

@Module({ imports: [TerminusModule], controllers: [HealthController, MetricsController] })
export class HealthModule {}
