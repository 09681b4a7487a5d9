import { Body, Controller, Delete, Get, HttpCode, Param, ParseIntPipe, Post, Put, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiKeyGuard } from '../auth/api-key.guard';
import { ApiErrors, BODY_ERRORS } from '../common/error-response.dto';
import { MappingAdminService } from './mapping-admin.service';
import {
  DryRunMappingDto,
  DryRunView,
  MappingDetailView,
  MappingEntryView,
  PreviewMappingDto,
  PreviewView,
  SaveMappingDto,
} from './mapping.dto';

@ApiTags('mappings')
@ApiBearerAuth()
@ApiErrors(401, 503)
@UseGuards(ApiKeyGuard)
@Controller('api/mappings')
export class MappingController {
  constructor(private readonly admin: MappingAdminService) {}

  @Get()
  @ApiOperation({ summary: 'Every inbound and destination mapping, with its origin, version and last change' })
  @ApiOkResponse({ type: [MappingEntryView] })
  async list(): Promise<MappingEntryView[]> {
    return this.admin.list();
  }

  @Post('preview')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Map a payload or a stored inbound event with the mapping in effect or a candidate; changes nothing',
  })
  @ApiOkResponse({ type: PreviewView, description: 'A mapping that fails at run time answers 200 with its errors' })
  @ApiErrors(...BODY_ERRORS, {
    400: 'Invalid field, both or neither of payload and inboundEventId, or an event of another type',
    404: 'No such connector, event type or inbound event',
    422: 'The candidate does not compile (details: position)',
  })
  async preview(@Body() dto: PreviewMappingDto): Promise<PreviewView> {
    return this.admin.preview(dto);
  }

  @Get(':connector/:eventType')
  @ApiOperation({ summary: 'One inbound mapping: the text in effect and every stored override version' })
  @ApiOkResponse({ type: MappingDetailView })
  @ApiErrors({ 404: 'No such connector or event type' })
  async detail(
    @Param('connector') connector: string,
    @Param('eventType') eventType: string,
  ): Promise<MappingDetailView> {
    return this.admin.detail(connector, eventType);
  }

  @Put(':connector/:eventType')
  @ApiOperation({
    summary: 'Store a new override version, checked against the samples and cases; in effect everywhere within seconds',
  })
  @ApiOkResponse({ type: MappingDetailView })
  @ApiErrors(...BODY_ERRORS, {
    404: 'No such connector or event type',
    422: 'Does not compile (details: position) or fails canonical validation (details: failing paths)',
  })
  async save(
    @Param('connector') connector: string,
    @Param('eventType') eventType: string,
    @Body() dto: SaveMappingDto,
  ): Promise<MappingDetailView> {
    return this.admin.save(connector, eventType, dto.expression, dto.comment);
  }

  @Delete(':connector/:eventType')
  @ApiOperation({ summary: 'Revert to the file; every stored version stays' })
  @ApiOkResponse({ type: MappingDetailView })
  @ApiErrors({ 404: 'No such connector or event type' })
  async revert(
    @Param('connector') connector: string,
    @Param('eventType') eventType: string,
  ): Promise<MappingDetailView> {
    return this.admin.revert(connector, eventType);
  }

  @Post(':connector/:eventType/versions/:version/restore')
  @HttpCode(200)
  @ApiOperation({ summary: 'Put a stored override version back in effect' })
  @ApiOkResponse({ type: MappingDetailView })
  @ApiErrors({ 400: 'version is not an integer', 404: 'No such connector, event type or version' })
  async restore(
    @Param('connector') connector: string,
    @Param('eventType') eventType: string,
    @Param('version', ParseIntPipe) version: number,
  ): Promise<MappingDetailView> {
    return this.admin.restore(connector, eventType, version);
  }

  @Post(':connector/:eventType/dry-run')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Run a candidate over the newest real events of the type: pass/fail counts and a field diff; changes nothing',
  })
  @ApiOkResponse({ type: DryRunView })
  @ApiErrors(...BODY_ERRORS, {
    404: 'No such connector or event type',
    422: 'The candidate does not compile (details: position)',
  })
  async dryRun(
    @Param('connector') connector: string,
    @Param('eventType') eventType: string,
    @Body() dto: DryRunMappingDto,
  ): Promise<DryRunView> {
    return this.admin.dryRun(connector, eventType, dto.expression, dto.limit);
  }
}
