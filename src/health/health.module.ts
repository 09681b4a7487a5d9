import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { DestinationsModule } from '../destinations/destinations.module';
import { MetricsController } from '../metrics/metrics.controller';
import { HealthController } from './health.controller';

@Module({ imports: [TerminusModule, DestinationsModule], controllers: [HealthController, MetricsController] })
export class HealthModule {}
