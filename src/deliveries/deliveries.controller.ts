import { Body, Controller, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiKeyGuard } from '../auth/api-key.guard';
import { BulkRetryDto, BulkRetryResult, ListDeliveriesQuery } from './deliveries.dto';
import { DeliveriesService } from './deliveries.service';

@ApiTags('deliveries')
@ApiBearerAuth()
@UseGuards(ApiKeyGuard)
@Controller('api/deliveries')
export class DeliveriesController {
  constructor(private readonly deliveries: DeliveriesService) {}

  @Get()
  @ApiOperation({
    summary: 'Deliveries, newest first, one page at a time',
    description: 'Filter by destination, status (superseded and unchanged included) and creation time.',
  })
  list(@Query() query: ListDeliveriesQuery) {
    return this.deliveries.list(query);
  }

  // Declared before `:id/retry` and `:id` so "retry" is never read as an id.
  @Post('retry')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Retry every finished delivery matching a filter',
    description:
      'Without `status`, only failed and exhausted deliveries are retried; with it, that final status (succeeded ' +
      'included). Deliveries still pending, retrying or sending are left alone. Reports how many were retried.',
  })
  @ApiOkResponse({ type: BulkRetryResult })
  retryMany(@Body() filter: BulkRetryDto) {
    return this.deliveries.retryMany(filter);
  }

  @Get(':id')
  @ApiOperation({ summary: 'One delivery with every attempt, response bodies included' })
  get(@Param('id') id: string) {
    return this.deliveries.get(id);
  }

  @Post(':id/retry')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Retry one delivery in any final state, exhausted included',
    description: 'It goes back to pending under the same webhook-id; 409 if it is already on its way.',
  })
  retry(@Param('id') id: string) {
    return this.deliveries.retry(id);
  }
}
