import { MiddlewareConsumer, Module, NestModule, RequestMethod } from '@nestjs/common';
import { ConnectorsModule } from '../connectors/connectors.module';
import { SourcesModule } from '../sources/sources.module';
import { IngestController } from './ingest.controller';
import { InboundEventService } from './inbound-event.service';
import { IngestService } from './ingest.service';
import { SourceLookupMiddleware } from './source-lookup.middleware';
import { SourceTestController } from './source-test.controller';
import { VerificationRejectionService } from './verification-rejection.service';

@Module({
  imports: [ConnectorsModule, SourcesModule],
  controllers: [IngestController, SourceTestController],
  providers: [IngestService, InboundEventService, VerificationRejectionService, SourceLookupMiddleware],
  exports: [IngestService, InboundEventService, VerificationRejectionService],
})
export class IngestModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(SourceLookupMiddleware).forRoutes({ path: 'hooks/:sourceId', method: RequestMethod.POST });
  }
}
