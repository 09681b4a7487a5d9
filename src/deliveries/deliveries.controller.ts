import { Body, Controller, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiKeyGuard } from '../auth/api-key.guard';
import { ApiErrors, BODY_ERRORS } from '../common/error-response.dto';
import { BulkRetryDto, BulkRetryResult, DeliveryDetailView, DeliveryPage, ListDeliveriesQuery } from './deliveries.dto';
import { DeliveriesService } from './deliveries.service';

@ApiTags('deliveries')
@ApiBearerAuth()
@ApiErrors(401, 503)
@UseGuards(ApiKeyGuard)
@Controller('api/deliveries')
export class DeliveriesController {
  constructor(private readonly deliveries: DeliveriesService) {}

  @Get()
  @ApiOperation({
    summary: 'Deliveries, newest first, one page at a time',
    description: 'Filter by destination, status (superseded and unchanged included) and creation time.',
  })
  @ApiOkResponse({ type: DeliveryPage })
  @ApiErrors({ 400: 'A filter is invalid, or cursor is not one this API returned' })
  list(@Query() query: ListDeliveriesQuery): Promise<DeliveryPage> {
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
  @ApiAcceptedResponse({ type: BulkRetryResult })
  @ApiErrors(...BODY_ERRORS)
  retryMany(@Body() filter: BulkRetryDto): Promise<BulkRetryResult> {
    return this.deliveries.retryMany(filter);
  }

  @Get(':id')
  @ApiOperation({ summary: 'One delivery with every attempt, response bodies included' })
  @ApiOkResponse({ type: DeliveryDetailView })
  @ApiErrors({ 404: 'No such delivery' })
  get(@Param('id') id: string): Promise<DeliveryDetailView> {
    return this.deliveries.get(id);
  }

  @Post(':id/retry')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Retry one delivery in any final state, exhausted included',
    description: 'It goes back to pending under the same webhook-id; 409 if it is already on its way.',
  })
  @ApiAcceptedResponse({ type: DeliveryDetailView, description: 'Back to pending and queued' })
  @ApiErrors({ 404: 'No such delivery', 409: 'It is pending, retrying or sending: already on its way' })
  retry(@Param('id') id: string): Promise<DeliveryDetailView> {
    return this.deliveries.retry(id);
  }
}
