import { Global, Module } from '@nestjs/common';
import { HUB_CONFIG, HubConfig } from '../config/hub-config';
import { OutboundClient } from './outbound.client';

/** The one outbound HTTP client, shared process-wide so every caller draws on the same connection pools. */
@Global()
@Module({
  providers: [
    {
      provide: OutboundClient,
      useFactory: (config: HubConfig) => new OutboundClient(config.outboundAllow),
      inject: [HUB_CONFIG],
    },
  ],
  exports: [OutboundClient],
})
export class OutboundModule {}
