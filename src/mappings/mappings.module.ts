import { Module } from '@nestjs/common';
import { MappingService } from './mapping.service';

/** JSONata mappings: vendor event → canonical events, evaluated in worker threads. */
@Module({ providers: [MappingService], exports: [MappingService] })
export class MappingsModule {}
