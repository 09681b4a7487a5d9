import { Controller, Get, NotFoundException, Param, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiKeyGuard } from '../auth/api-key.guard';
import { ApiErrors } from '../common/error-response.dto';
import { ConnectorDefinition } from './connector';
import { ConnectorRegistry } from './connector.registry';
import { VERIFIERS } from './connector.registry';
import { ConnectorSampleView, ConnectorView } from './connectors.dto';

@ApiTags('connectors')
@ApiBearerAuth()
@ApiErrors(401)
@UseGuards(ApiKeyGuard)
@Controller('api/connectors')
export class ConnectorsController {
  constructor(private readonly connectors: ConnectorRegistry) {}

  /** Each connector with its events and what a source needs: scheme, headers the vendor sends, secrets. */
  @Get()
  @ApiOperation({
    summary: 'Every connector with its events and what a source needs',
    description: 'The verification scheme, the headers the vendor sends, and the secrets a source must be given.',
  })
  @ApiOkResponse({ type: [ConnectorView] })
  list(): ConnectorView[] {
    return this.connectors.list().map((connector) => this.describe(connector));
  }

  @Get(':id')
  @ApiOperation({ summary: 'One connector with its events and what a source needs' })
  @ApiOkResponse({ type: ConnectorView })
  @ApiErrors({ 404: 'No such connector' })
  get(@Param('id') id: string): ConnectorView {
    return this.describe(this.find(id));
  }

  /** The doc-faithful sample payloads, one or more per vendor event. */
  @Get(':id/samples')
  @ApiOperation({ summary: 'The sample payloads of a connector, one or more per vendor event, from its vendor docs' })
  @ApiOkResponse({ type: [ConnectorSampleView] })
  @ApiErrors({ 404: 'No such connector' })
  samples(@Param('id') id: string): ConnectorSampleView[] {
    const connector = this.find(id);
    return connector.events.flatMap((event) =>
      event.samples.map((file) => ({
        event: event.type,
        name: file,
        payload: JSON.parse(this.connectors.sample(connector, file).toString('utf8')) as unknown,
      })),
    );
  }

  private find(id: string): ConnectorDefinition {
    const connector = this.connectors.find(id);
    if (!connector) throw new NotFoundException(`Unknown connector "${id}"`);
    return connector;
  }

  private describe(connector: ConnectorDefinition): ConnectorView {
    const verification = this.connectors.schemesOf(connector).map((scheme) => {
      const overrides = scheme === connector.verification.scheme ? {} : { scheme };
      return VERIFIERS[scheme].describe(this.connectors.settingsFor(connector, overrides));
    });
    return {
      id: connector.id,
      name: connector.name,
      vendorDoc: connector.vendorDoc,
      verification: verification[0],
      alternativeVerification: verification.slice(1),
      setup: connector.setup,
      envelope: connector.envelope,
      // What a source with an API credential fetches for which event (issue 12).
      enrichment: connector.enrichment,
      events: connector.events.map((event) => ({
        type: event.type,
        description: event.description,
        samples: event.samples,
      })),
    };
  }
}
