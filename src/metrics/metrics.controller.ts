import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { DestinationAdapters } from '../destinations/adapters/destination-adapters';
import { DestinationHealthService } from '../destinations/destination-health.service';
import { MetricsService } from './metrics.service';

@ApiTags('metrics')
@Controller('metrics')
export class MetricsController {
  constructor(
    private readonly metrics: MetricsService,
    private readonly adapters: DestinationAdapters,
    private readonly destinationHealth: DestinationHealthService,
  ) {}

  @Get()
  @Header('content-type', 'text/plain; version=0.0.4')
  @ApiOperation({
    summary: 'Prometheus metrics in the text exposition format (no API key)',
    description: 'Ingest outcomes and rejections, queue, delivery and CRM quota series of this process.',
  })
  @ApiProduces('text/plain')
  @ApiOkResponse({
    schema: {
      type: 'string',
      example: 'switchboard_ingest_total{connector="askelephant",outcome="accepted",reason=""} 42\n',
    },
  })
  async scrape(): Promise<string> {
    for (const adapter of this.adapters.all()) {
      for (const [destination, quota] of Object.entries(adapter.health?.() ?? {})) {
        const labels = { type: adapter.type, destination };
        if (quota.max > 0) this.metrics.crmQuotaUsed.set(labels, quota.used / quota.max);
        this.metrics.crmDeferring.set(labels, quota.deferring ? 1 : 0);
      }
    }
    await this.destinationHealth.refreshMetrics();
    return this.metrics.registry.metrics();
  }
}
