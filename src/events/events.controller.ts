import { Body, Controller, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiKeyGuard } from '../auth/api-key.guard';
import { ApiErrors, BODY_ERRORS } from '../common/error-response.dto';
import {
  EventDetailView,
  EventPage,
  InboundEventView,
  ListEventsQuery,
  ReplayEventDto,
  ReplayResult,
} from './events.dto';
import { EventsService } from './events.service';

@ApiTags('events')
@ApiBearerAuth()
@ApiErrors(401, 503)
@UseGuards(ApiKeyGuard)
@Controller('api/events')
export class EventsController {
  constructor(private readonly events: EventsService) {}

  @Get()
  @ApiOperation({
    summary: 'Inbound events, newest first, one page at a time',
    description:
      'Filters combine (all must hold). Pass `nextCursor` back as `cursor` for the next page; its absence means ' +
      'the last page.',
  })
  @ApiOkResponse({ type: EventPage })
  @ApiErrors({ 400: 'A filter is invalid, or cursor is not one this API returned' })
  list(@Query() query: ListEventsQuery): Promise<EventPage> {
    return this.events.list(query);
  }

  @Get(':id')
  @ApiOperation({
    summary: 'One inbound event in one document',
    description:
      'Raw payload (text when it is not JSON), headers with credentials redacted, the verification scheme, every ' +
      'revision of its canonical events, and its deliveries with every attempt including the response body.',
  })
  @ApiOkResponse({ type: EventDetailView })
  @ApiErrors({ 404: 'No such event' })
  get(@Param('id') id: string): Promise<EventDetailView> {
    return this.events.get(id);
  }

  @Post(':id/renormalize')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Run the current mapping on any event again',
    description:
      'If the output differs from the stored one it becomes a new revision, delivered as new deliveries (new ' +
      'webhook-id); if nothing changed, nothing is delivered again.',
  })
  @ApiAcceptedResponse({ type: InboundEventView, description: 'Reopened (status received) and queued' })
  @ApiErrors({ 404: 'No such event', 409: 'Its payload was purged by retention' })
  renormalize(@Param('id') id: string): Promise<InboundEventView> {
    return this.events.renormalize(id);
  }

  @Post(':id/replay')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Deliver the stored canonical events again',
    description:
      'Finished deliveries of the newest revision go back to pending; a destination that matches now but had no ' +
      'delivery gets one. With `destinationId`, only that destination.',
  })
  @ApiAcceptedResponse({ type: ReplayResult })
  @ApiErrors(...BODY_ERRORS, {
    404: 'No such event or destination',
    409: 'No canonical output to replay (re-normalise it instead), or the destination takes none of it',
  })
  replay(@Param('id') id: string, @Body() body: ReplayEventDto): Promise<ReplayResult> {
    return this.events.replay(id, body?.destinationId);
  }
}
