import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { PageQueryDto } from '../common/page-query.dto';
import { IsBoolean, IsDate, IsIn, IsOptional, IsString, MaxLength } from 'class-validator';

export const INBOUND_STATUSES = ['received', 'normalized', 'failed'] as const;
export const ENRICHMENT_STATUSES = ['pending', 'enriched', 'failed'] as const;

/** `true`/`false` in a query string; anything else stays a string and fails IsBoolean (400). */
export const toBoolean = ({ value }: { value: unknown }) =>
  value === 'true' ? true : value === 'false' ? false : value;

export class ListEventsQuery extends PageQueryDto {
  @ApiPropertyOptional({ enum: INBOUND_STATUSES })
  @IsOptional()
  @IsIn(INBOUND_STATUSES)
  status?: (typeof INBOUND_STATUSES)[number];

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(200)
  sourceId?: string;

  @ApiPropertyOptional({ description: 'Connector id (e.g. askelephant): events of every source of that connector' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  connector?: string;

  @ApiPropertyOptional({ description: 'Vendor event type, exactly as received' })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  vendorEventType?: string;

  @ApiPropertyOptional({ description: "The vendor's event id" })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  vendorEventId?: string;

  @ApiPropertyOptional({ description: 'Canonical subject (e.g. contact:hubspot:42) of any of its canonical events' })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  subject?: string;

  @ApiPropertyOptional({ description: 'Only test (true) or only real (false) events' })
  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean()
  test?: boolean;

  @ApiPropertyOptional({
    enum: ENRICHMENT_STATUSES,
    description: 'Only events whose enrichment (issue 12) is in this state; `failed` lists what went on without it',
  })
  @IsOptional()
  @IsIn(ENRICHMENT_STATUSES)
  enrichment?: (typeof ENRICHMENT_STATUSES)[number];

  @ApiPropertyOptional({ description: 'Received at or after (ISO 8601)', type: String, format: 'date-time' })
  @IsOptional()
  @Type(() => Date)
  @IsDate()
  from?: Date;

  @ApiPropertyOptional({ description: 'Received before (ISO 8601)', type: String, format: 'date-time' })
  @IsOptional()
  @Type(() => Date)
  @IsDate()
  to?: Date;
}

export class ReplayEventDto {
  @ApiPropertyOptional({ description: 'Only this destination (created if it now matches); all destinations if absent' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  destinationId?: string;
}

/** `POST /api/events/:id/enrich`: the event is fetching again; it is normalised again once the fetch ends. */
export class EnrichEventResponse {
  @ApiProperty({ example: 'in_01JWAS…' })
  id!: string;

  @ApiProperty({ enum: INBOUND_STATUSES, example: 'received' })
  status!: (typeof INBOUND_STATUSES)[number];

  @ApiProperty({ enum: ENRICHMENT_STATUSES, example: 'pending' })
  enrichmentStatus!: (typeof ENRICHMENT_STATUSES)[number];
}
