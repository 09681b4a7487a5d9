import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ArchivedQuery, PurgeQuery } from '../common/archive-query.dto';
import { ApiKeyGuard } from '../auth/api-key.guard';
import { CreateDestinationDto, DestinationPurge, DestinationView, UpdateDestinationDto } from './destination.dto';
import { DestinationService } from './destination.service';

@ApiTags('destinations')
@ApiBearerAuth()
@UseGuards(ApiKeyGuard)
@Controller('api/destinations')
export class DestinationController {
  constructor(private readonly destinations: DestinationService) {}

  /** The answer carries the signing secret: the only time it is shown. */
  @Post()
  async create(@Body() dto: CreateDestinationDto): Promise<DestinationView> {
    const { entity, secret } = await this.destinations.create(dto);
    return this.destinations.view(entity, secret);
  }

  @Get()
  @ApiOperation({ summary: 'List destinations (deleted ones only with ?archived=true)' })
  async list(@Query() query: ArchivedQuery): Promise<DestinationView[]> {
    return (await this.destinations.list(query.archived)).map((d) => this.destinations.view(d));
  }

  @Get(':id')
  async get(@Param('id') id: string): Promise<DestinationView> {
    return this.destinations.view(await this.destinations.get(id));
  }

  @Patch(':id')
  async update(@Param('id') id: string, @Body() dto: UpdateDestinationDto): Promise<DestinationView> {
    return this.destinations.view(await this.destinations.update(id, dto));
  }

  /** Issues a new secret; the previous one keeps signing for 24 h so receivers can roll over. */
  @Post(':id/rotate-secret')
  @HttpCode(200)
  async rotate(@Param('id') id: string): Promise<DestinationView> {
    const { entity, secret } = await this.destinations.rotateSecret(id);
    return this.destinations.view(entity, secret);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({
    summary: 'Delete (archive) a destination: it receives nothing more; its deliveries and attempts stay readable',
  })
  async remove(@Param('id') id: string): Promise<void> {
    await this.destinations.archive(id);
  }

  @Post(':id/purge')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Delete a destination with its deliveries, attempts and CRM id ledger for good',
    description:
      'A destination with deliveries answers 409 with what would be deleted until called with ?confirm=true.',
  })
  @ApiOkResponse({ type: DestinationPurge })
  purge(@Param('id') id: string, @Query() query: PurgeQuery): Promise<DestinationPurge> {
    return this.destinations.purge(id, query.confirm ?? false);
  }
}
