import { Controller, Get, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiKeyGuard } from '../auth/api-key.guard';
import { canonicalCatalogue } from './canonical-schema';

@ApiTags('canonical')
@ApiBearerAuth()
@UseGuards(ApiKeyGuard)
@Controller('api/canonical')
export class CanonicalController {
  /** Built once: the entity classes do not change while the process runs. */
  private readonly catalogue = canonicalCatalogue();

  @Get()
  @ApiOperation({
    summary: 'Every canonical event type with the JSON Schema (draft-07) of its data',
    description: 'Generated from the validator the pipeline runs; destination eventTypes globs must match these.',
  })
  @ApiOkResponse({
    schema: {
      type: 'array',
      items: {
        type: 'object',
        properties: { type: { type: 'string' }, entity: { type: 'string' }, schema: { type: 'object' } },
      },
      example: [{ type: 'contact.created', entity: 'Contact', schema: { type: 'object', required: ['id'] } }],
    },
  })
  list() {
    return this.catalogue;
  }
}
