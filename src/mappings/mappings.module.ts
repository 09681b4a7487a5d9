import { Module } from '@nestjs/common';
import { CanonicalModule } from '../canonical/canonical.module';
import { ConnectorsModule } from '../connectors/connectors.module';
import { IngestModule } from '../ingest/ingest.module';
import { SourcesModule } from '../sources/sources.module';
import { MappingAdminService } from './mapping-admin.service';
import { MappingController } from './mapping.controller';
import { MappingOverrideService } from './mapping-override.service';
import { MappingService } from './mapping.service';

/**
 * JSONata mappings: vendor event → canonical events, evaluated in worker threads; the files, and the override
 * versions ops store through /api/mappings.
 */
@Module({
  imports: [ConnectorsModule, CanonicalModule, IngestModule, SourcesModule],
  controllers: [MappingController],
  providers: [MappingService, MappingOverrideService, MappingAdminService],
  exports: [MappingService, MappingOverrideService],
})
export class MappingsModule {}
