import { Controller, Get, Res, ServiceUnavailableException } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { withTimeout } from '../common/with-timeout';
import { HealthView } from './health.dto';
import { DestinationAdapters } from '../destinations/adapters/destination-adapters';
import { PipelineQueue } from '../pipeline/pipeline.queue';

/** DESIGN §7: 200 {status: ok, info: {database, redis}} when both answer, 503 otherwise. No auth: load balancers call it. */
@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly dataSource: DataSource,
    private readonly queue: PipelineQueue,
    private readonly adapters: DestinationAdapters,
  ) {}

  /** 503 keeps Terminus's body ({status, info, error, details}) so ops see which dependency is down. */
  @Get()
  // Terminus's own schema is replaced by HealthView below; noCache must be restated, it is only a default.
  @HealthCheck({ noCache: true, swaggerDocumentation: false })
  @ApiOperation({
    summary: 'Liveness for load balancers: database and Redis reachable (no API key)',
    description: 'Also reports CRM quotas per destination under info.destinations; a spent quota is not unhealthy.',
  })
  @ApiOkResponse({ type: HealthView, description: 'Database and Redis answer' })
  @ApiServiceUnavailableResponse({ type: HealthView, description: 'A dependency is down: error says which' })
  async check(@Res({ passthrough: true }) reply: FastifyReply) {
    try {
      return await this.health.check([
        () => this.probe('database', () => this.dataSource.query('SELECT 1')),
        () => this.probe('redis', () => this.queue.ping(2000)),
        () => this.quotas(),
      ]);
    } catch (err) {
      if (!(err instanceof ServiceUnavailableException)) throw err;
      reply.status(503);
      return err.getResponse();
    }
  }

  /**
   * CRM quotas as this process sees them (issue 8): each adapter reports per destination, e.g. Salesforce's daily
   * API budget from Sforce-Limit-Info. Informational: a nearly spent budget defers writes, it does not make the hub
   * unhealthy.
   */
  private quotas() {
    const reports = Object.fromEntries(
      this.adapters
        .all()
        .map((adapter) => [adapter.type, adapter.health?.()] as const)
        .filter(([, report]) => report && Object.keys(report).length),
    );
    return this.indicators.check('destinations').up(Object.keys(reports).length ? { quotas: reports } : {});
  }

  private async probe(key: string, ping: () => Promise<unknown>) {
    const indicator = this.indicators.check(key);
    try {
      await withTimeout(ping(), 2000, key);
      return indicator.up();
    } catch (err) {
      return indicator.down({ message: (err as Error).message });
    }
  }
}
