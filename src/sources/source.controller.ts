import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Patch, Post, Req, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { ApiKeyGuard } from '../auth/api-key.guard';
import { baseUrlOf } from '../common/base-url';
import { HUB_CONFIG, HubConfig } from '../config/hub-config';
import { CreateSourceDto, SourceView, UpdateSourceDto } from './source.dto';
import { SourceService } from './source.service';

@ApiTags('sources')
@ApiBearerAuth()
@UseGuards(ApiKeyGuard)
@Controller('api/sources')
export class SourceController {
  constructor(
    private readonly sources: SourceService,
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
  ) {}

  @Post()
  async create(@Body() dto: CreateSourceDto, @Req() req: FastifyRequest): Promise<SourceView> {
    return this.sources.view(await this.sources.create(dto), baseUrlOf(this.config, req));
  }

  @Get()
  async list(@Req() req: FastifyRequest): Promise<SourceView[]> {
    const base = baseUrlOf(this.config, req);
    return (await this.sources.list()).map((source) => this.sources.view(source, base));
  }

  @Get(':id')
  async get(@Param('id') id: string, @Req() req: FastifyRequest): Promise<SourceView> {
    return this.sources.view(await this.sources.getEntity(id), baseUrlOf(this.config, req));
  }

  @Patch(':id')
  async update(@Param('id') id: string, @Body() dto: UpdateSourceDto, @Req() req: FastifyRequest): Promise<SourceView> {
    return this.sources.view(await this.sources.update(id, dto), baseUrlOf(this.config, req));
  }

  @Delete(':id')
  @HttpCode(204)
  async remove(@Param('id') id: string): Promise<void> {
    await this.sources.remove(id);
  }
}
