import { Module } from '@nestjs/common';
import { DeliveriesModule } from '../deliveries/deliveries.module';
import { DeliveryModule } from '../delivery/delivery.module';
import { DestinationsModule } from '../destinations/destinations.module';
import { EventsModule } from '../events/events.module';
import { IngestModule } from '../ingest/ingest.module';
import { SourcesModule } from '../sources/sources.module';
import { ISSUE_KIND_PROVIDERS, IssueKind } from './issue';
import { IssuesController } from './issues.controller';
import { IssuesService } from './issues.service';
import { DeliveryIssues } from './kinds/delivery-issues.service';
import { MappingIssues } from './kinds/mapping-issues.service';
import { VerificationIssues } from './kinds/verification-issues.service';

/** Every kind of issue; a new kind (enrichment failures) is one class in kinds/ added here. */
const KINDS = [DeliveryIssues, MappingIssues, VerificationIssues];

/** `/api/issues`: grouped failures and their bulk actions, through the owning modules' services. */
@Module({
  imports: [DeliveryModule, DeliveriesModule, DestinationsModule, EventsModule, IngestModule, SourcesModule],
  controllers: [IssuesController],
  providers: [
    ...KINDS,
    { provide: ISSUE_KIND_PROVIDERS, useFactory: (...kinds: IssueKind[]) => kinds, inject: KINDS },
    IssuesService,
  ],
})
export class IssuesModule {}
