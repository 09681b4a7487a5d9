import { BadRequestException, Body, Controller, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiTags,
} from '@nestjs/swagger';
import { IsOptional, IsString, Length } from 'class-validator';
import { ApiKeyGuard } from '../auth/api-key.guard';
import { ApiErrors, BODY_ERRORS } from '../common/error-response.dto';
import { ConnectorRegistry } from '../connectors/connector.registry';
import { SourceTestResult } from '../sources/source.dto';
import { SourceService } from '../sources/source.service';
import { IngestService } from './ingest.service';

export class SourceTestDto {
  @ApiProperty({ example: 'v1.engagement.updated', description: 'A vendor event type of the source connector' })
  @IsString()
  @Length(1, 200)
  event!: string;

  @ApiPropertyOptional({
    description: 'Which sample of that event (GET /api/connectors/:id/samples); default the first',
  })
  @IsOptional()
  @IsString()
  sample?: string;
}

@ApiTags('sources')
@ApiBearerAuth()
@ApiErrors(401, 503)
@UseGuards(ApiKeyGuard)
@Controller('api/sources')
export class SourceTestController {
  constructor(
    private readonly sources: SourceService,
    private readonly connectors: ConnectorRegistry,
    private readonly ingest: IngestService,
  ) {}

  /** Runs the connector's sample for `event` through the full pipeline with test: true (destinations opt in). */
  @Post(':id/test')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Send a connector sample through the full pipeline as a test event (test: true)',
    description: 'Only destinations with includeTest receive it. The event is in GET /api/events like any other.',
  })
  @ApiAcceptedResponse({ type: SourceTestResult })
  @ApiErrors(...BODY_ERRORS, { 400: 'The connector has no such event or sample', 404: 'No such source' })
  async test(@Param('id') id: string, @Body() dto: SourceTestDto): Promise<SourceTestResult> {
    const source = await this.sources.getEntity(id);
    const connector = this.connectors.get(source.connector);
    const event = connector.events.find((e) => e.type === dto.event);
    if (!event) {
      throw new BadRequestException(
        `${connector.name} has no event "${dto.event}"; it has ${connector.events.map((e) => e.type).join(', ')}`,
      );
    }
    const sample = dto.sample ?? event.samples[0];
    if (!event.samples.includes(sample)) {
      throw new BadRequestException(
        `"${sample}" is not a sample of ${dto.event}; use one of ${event.samples.join(', ')}`,
      );
    }
    const { id: eventId } = await this.ingest.injectTest(source.id, connector.id, sample);
    return { id: eventId, event: dto.event, sample, test: true };
  }
}
