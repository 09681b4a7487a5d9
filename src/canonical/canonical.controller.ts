import { Controller, Get, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiKeyGuard } from '../auth/api-key.guard';
import { ApiErrors } from '../common/error-response.dto';
import { canonicalCatalogue } from './canonical-schema';
import { CanonicalTypeView } from './canonical.dto';

@ApiTags('canonical')
@ApiBearerAuth()
@ApiErrors(401)
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
  @ApiOkResponse({ type: [CanonicalTypeView] })
  list(): CanonicalTypeView[] {
    return this.catalogue;
  }
}
