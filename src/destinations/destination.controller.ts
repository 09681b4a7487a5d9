import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, UseGuards } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { ArchivedQuery, PurgeQuery } from '../common/archive-query.dto';
import { ApiKeyGuard } from '../auth/api-key.guard';
import { ApiErrors, BODY_ERRORS } from '../common/error-response.dto';
import {
  CreateDestinationDto,
  DestinationPurge,
  DestinationView,
  ReplayMissedResult,
  UpdateDestinationDto,
} from './destination.dto';
import { DestinationHealthService } from './destination-health.service';
import { DestinationService } from './destination.service';

@ApiTags('destinations')
@ApiBearerAuth()
@ApiErrors(401, 503)
@UseGuards(ApiKeyGuard)
@Controller('api/destinations')
export class DestinationController {
  constructor(
    private readonly destinations: DestinationService,
    private readonly health: DestinationHealthService,
  ) {}

  /** The answer carries the signing secret: the only time it is shown. */
  @Post()
  @ApiOperation({
    summary: 'Create a webhook or CRM destination; the answer shows its signing secret, the only time it is shown',
    description:
      'Each eventTypes glob must match a type of GET /api/canonical; a webhook url must be allowed by ' +
      'HUB_OUTBOUND_ALLOW. CRM tokens in config are write-only.',
  })
  @ApiCreatedResponse({ type: DestinationView })
  @ApiErrors(...BODY_ERRORS, {
    400: 'Invalid field, url refused, eventTypes matching no canonical type, bad filter, headers or config',
  })
  async create(@Body() dto: CreateDestinationDto): Promise<DestinationView> {
    const { entity, secret } = await this.destinations.create(dto);
    return this.health.view(entity, secret);
  }

  @Get()
  @ApiOperation({ summary: 'List destinations with their health (deleted ones only with ?archived=true)' })
  @ApiOkResponse({ type: [DestinationView] })
  @ApiErrors(400)
  async list(@Query() query: ArchivedQuery): Promise<DestinationView[]> {
    return this.health.views(await this.destinations.list(query.archived));
  }

  @Get(':id')
  @ApiOperation({ summary: 'One destination with its health' })
  @ApiOkResponse({ type: DestinationView })
  @ApiErrors({ 404: 'No such destination' })
  async get(@Param('id') id: string): Promise<DestinationView> {
    return this.health.view(await this.destinations.get(id));
  }

  @Patch(':id')
  @ApiOperation({
    summary: 'Change a destination; {"enabled": true} on a disabled one re-enables it and says what it missed',
    description:
      'Re-enabling clears disabledReason and disabledAt and answers with `missed` {count, since}: the canonical ' +
      'events it would have received while disabled. POST /api/destinations/:id/replay-missed sends them.',
  })
  @ApiOkResponse({ type: DestinationView })
  @ApiErrors(...BODY_ERRORS, { 404: 'No such destination', 409: 'The destination is archived' })
  async update(@Param('id') id: string, @Body() dto: UpdateDestinationDto): Promise<DestinationView> {
    const { entity, reEnabled } = await this.destinations.update(id, dto);
    const view = await this.health.view(entity);
    const missed = reEnabled ? await this.health.missed(entity) : undefined;
    return missed ? { ...view, missed } : view;
  }

  @Post(':id/replay-missed')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Deliver what a re-enabled destination missed while it was disabled',
    description:
      'Creates and queues one delivery per missed canonical event (its filter applies). Idempotent: events it ' +
      'already has a delivery of are skipped, so a second call answers {"count": 0}.',
  })
  @ApiAcceptedResponse({ type: ReplayMissedResult })
  @ApiErrors({ 404: 'No such destination', 409: 'The destination is disabled: re-enable it first' })
  replayMissed(@Param('id') id: string): Promise<ReplayMissedResult> {
    return this.health.replayMissed(id);
  }

  /** Issues a new secret; the previous one keeps signing for 24 h so receivers can roll over. */
  @Post(':id/rotate-secret')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Issue a new signing secret; the previous one keeps signing for 24 h so receivers can roll over',
  })
  @ApiOkResponse({ type: DestinationView, description: 'The destination with its new secret, shown this once' })
  @ApiErrors({ 404: 'No such destination' })
  async rotate(@Param('id') id: string): Promise<DestinationView> {
    const { entity, secret } = await this.destinations.rotateSecret(id);
    return this.health.view(entity, secret);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({
    summary: 'Delete (archive) a destination: it receives nothing more; its deliveries and attempts stay readable',
  })
  @ApiNoContentResponse({ description: 'Archived' })
  @ApiErrors({ 404: 'No such destination' })
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
  @ApiErrors(400, {
    404: 'No such destination',
    409: 'It has deliveries and ?confirm=true was not given (says what would go)',
  })
  purge(@Param('id') id: string, @Query() query: PurgeQuery): Promise<DestinationPurge> {
    return this.destinations.purge(id, query.confirm ?? false);
  }
}
