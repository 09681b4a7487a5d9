import { Module } from '@nestjs/common';
import { ConnectorsModule } from '../connectors/connectors.module';
import { SourceController } from './source.controller';
import { SourceService } from './source.service';

@Module({
  imports: [ConnectorsModule],
  controllers: [SourceController],
  providers: [SourceService],
  exports: [SourceService],
})
export class SourcesModule {}
