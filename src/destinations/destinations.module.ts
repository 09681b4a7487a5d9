import { Module } from '@nestjs/common';
import { DESTINATION_ADAPTERS, DestinationAdapter } from './adapters/destination-adapter';
import { DestinationAdapters } from './adapters/destination-adapters';
import { HubspotAdapter } from './adapters/hubspot/hubspot.adapter';
import { PipedriveAdapter } from './adapters/pipedrive/pipedrive.adapter';
import { SalesforceAdapter } from './adapters/salesforce/salesforce.adapter';
import { CrmLedgerService } from './adapters/shared/crm-ledger.service';
import { DestinationMappingService } from './adapters/shared/destination-mapping.service';
import { WebhookAdapter } from './adapters/webhook/webhook.adapter';
import { DeliveryModule } from '../delivery/delivery.module';
import { RoutingModule } from '../routing/routing.module';
import { DestinationController } from './destination.controller';
import { DestinationHealthService } from './destination-health.service';
import { DestinationService } from './destination.service';

/** Every destination adapter; add a CRM's adapter class here (and its config spec in adapters/config-specs.ts). */
const ADAPTERS = [WebhookAdapter, HubspotAdapter, PipedriveAdapter, SalesforceAdapter];

@Module({
  // Health reads deliveries, and replay-missed creates them through routing, like the normalize job does.
  imports: [DeliveryModule, RoutingModule],
  controllers: [DestinationController],
  providers: [
    DestinationService,
    DestinationHealthService,
    CrmLedgerService,
    DestinationMappingService,
    ...ADAPTERS,
    {
      provide: DESTINATION_ADAPTERS,
      inject: ADAPTERS,
      useFactory: (...adapters: DestinationAdapter[]) => adapters,
    },
    DestinationAdapters,
  ],
  exports: [DestinationService, DestinationHealthService, DestinationAdapters],
})
export class DestinationsModule {}
