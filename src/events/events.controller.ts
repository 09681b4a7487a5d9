import { Controller, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Max, Min } from 'class-validator';
import { ApiKeyGuard } from '../auth/api-key.guard';
import { EventsService } from './events.service';

export class ListEventsQuery {
  @ApiPropertyOptional({ enum: ['received', 'normalized', 'failed'] })
  @IsOptional()
  @IsIn(['received', 'normalized', 'failed'])
  status?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  sourceId?: string;

  @ApiPropertyOptional({ default: 50, maximum: 500 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit = 50;
}

@ApiTags('events')
@ApiBearerAuth()
@UseGuards(ApiKeyGuard)
@Controller('api/events')
export class EventsController {
  constructor(private readonly events: EventsService) {}

  @Get()
  list(@Query() query: ListEventsQuery) {
    return this.events.list(query);
  }

  /** The inbound event with its payload, canonical output, deliveries and every attempt. */
  @Get(':id')
  get(@Param('id') id: string) {
    return this.events.get(id);
  }

  @Post(':id/renormalize')
  @HttpCode(202)
  renormalize(@Param('id') id: string) {
    return this.events.renormalize(id);
  }
}
