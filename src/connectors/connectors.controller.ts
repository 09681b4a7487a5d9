import { Controller, Get, NotFoundException, Param, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { ApiKeyGuard } from '../auth/api-key.guard';
import { ConnectorDefinition } from './connector';
import { ConnectorRegistry } from './connector.registry';
import { VERIFIERS } from './connector.registry';

@ApiTags('connectors')
@ApiBearerAuth()
@UseGuards(ApiKeyGuard)
@Controller('api/connectors')
export class ConnectorsController {
  constructor(private readonly connectors: ConnectorRegistry) {}

  /** Each connector with its events and what a source needs: scheme, headers the vendor sends, secrets. */
  @Get()
  list() {
    return this.connectors.list().map((connector) => this.describe(connector));
  }

  @Get(':id')
  get(@Param('id') id: string) {
    return this.describe(this.find(id));
  }

  /** The doc-faithful sample payloads, one or more per vendor event. */
  @Get(':id/samples')
  samples(@Param('id') id: string) {
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

  private describe(connector: ConnectorDefinition) {
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
      events: connector.events.map((event) => ({
        type: event.type,
        description: event.description,
        samples: event.samples,
      })),
    };
  }
}
