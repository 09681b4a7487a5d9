import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  Param,
  Patch,
  Post,
  Query,
  Req,
  UseGuards,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { ApiKeyGuard } from '../auth/api-key.guard';
import { ArchivedQuery, PurgeQuery } from '../common/archive-query.dto';
import { baseUrlOf } from '../common/base-url';
import { ApiErrors, BODY_ERRORS } from '../common/error-response.dto';
import { HUB_CONFIG, HubConfig } from '../config/hub-config';
import { CreateSourceDto, SourcePurge, SourceView, UpdateSourceDto } from './source.dto';
import { SourceService } from './source.service';

@ApiTags('sources')
@ApiBearerAuth()
@ApiErrors(401, 503)
@UseGuards(ApiKeyGuard)
@Controller('api/sources')
export class SourceController {
  constructor(
    private readonly sources: SourceService,
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
  ) {}

  @Post()
  @ApiOperation({
    summary: 'Create a source; its url is where the vendor posts',
    description:
      'Secrets are checked against the connector scheme (e.g. whsec_ for Standard Webhooks) and never shown again; ' +
      'a url-token source takes none.',
  })
  @ApiCreatedResponse({ type: SourceView })
  @ApiErrors(...BODY_ERRORS, { 400: 'Invalid field, unknown connector, or secrets the scheme refuses' })
  async create(@Body() dto: CreateSourceDto, @Req() req: FastifyRequest): Promise<SourceView> {
    return this.sources.view(await this.sources.create(dto), baseUrlOf(this.config, req));
  }

  @Get()
  @ApiOperation({ summary: 'List sources (deleted ones only with ?archived=true)' })
  @ApiOkResponse({ type: [SourceView] })
  @ApiErrors(400)
  async list(@Query() query: ArchivedQuery, @Req() req: FastifyRequest): Promise<SourceView[]> {
    const base = baseUrlOf(this.config, req);
    return (await this.sources.list(query.archived)).map((source) => this.sources.view(source, base));
  }

  @Get(':id')
  @ApiOperation({ summary: 'One source with its effective verification (archived ones too)' })
  @ApiOkResponse({ type: SourceView })
  @ApiErrors({ 404: 'No such source' })
  async get(@Param('id') id: string, @Req() req: FastifyRequest): Promise<SourceView> {
    return this.sources.view(await this.sources.getEntity(id), baseUrlOf(this.config, req));
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Change a source; secrets and verification are validated as on create' })
  @ApiOkResponse({ type: SourceView })
  @ApiErrors(...BODY_ERRORS, { 404: 'No such source', 409: 'The source is archived' })
  async update(@Param('id') id: string, @Body() dto: UpdateSourceDto, @Req() req: FastifyRequest): Promise<SourceView> {
    return this.sources.view(await this.sources.update(id, dto), baseUrlOf(this.config, req));
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({
    summary: 'Delete (archive) a source: it accepts nothing more; its events and deliveries stay readable',
  })
  @ApiNoContentResponse({ description: 'Archived' })
  @ApiErrors({ 404: 'No such source' })
  async remove(@Param('id') id: string): Promise<void> {
    await this.sources.archive(id);
  }

  @Post(':id/purge')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Delete a source and all its history for good',
    description: 'A source with events answers 409 with what would be deleted until called with ?confirm=true.',
  })
  @ApiOkResponse({ type: SourcePurge })
  @ApiErrors(400, { 404: 'No such source', 409: 'It has history and ?confirm=true was not given (says what would go)' })
  purge(@Param('id') id: string, @Query() query: PurgeQuery): Promise<SourcePurge> {
    return this.sources.purge(id, query.confirm ?? false);
  }
}
