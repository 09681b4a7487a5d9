import { Controller, Get, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiKeyGuard } from '../auth/api-key.guard';
import { ApiErrors } from '../common/error-response.dto';
import { StatsQuery, StatsView } from './stats.dto';
import { StatsService } from './stats.service';

@ApiTags('stats')
@ApiBearerAuth()
@ApiErrors(401, 503)
@UseGuards(ApiKeyGuard)
@Controller('api/stats')
export class StatsController {
  constructor(private readonly stats: StatsService) {}

  @Get()
  @ApiOperation({
    summary: 'Traffic per connector and per destination, in hour buckets',
    description:
      'One entry per hour, oldest first, the last the current hour. Connectors: events accepted, deliveries ' +
      'refused at /hooks, events that failed normalisation. Destinations: attempts delivered, and attempts that ' +
      'ended their delivery failed or exhausted.',
  })
  @ApiOkResponse({ type: StatsView })
  @ApiErrors({ 400: 'hours is not a whole number from 1 to 168' })
  get(@Query() query: StatsQuery) {
    return this.stats.hourly(query.hours);
  }
}
