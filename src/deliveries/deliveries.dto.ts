import { ApiProperty, ApiPropertyOptional, IntersectionType } from '@nestjs/swagger';
import { PageQueryDto } from '../common/page-query.dto';
import { Type } from 'class-transformer';
import { IsDate, IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { DeliveryStatus } from '../delivery/delivery.entity';
import { FINAL_STATUSES } from '../delivery/delivery.service';

export const DELIVERY_STATUSES: DeliveryStatus[] = ['pending', 'sending', 'retrying', ...FINAL_STATUSES];

/** The filter shared by the delivery log and bulk retry. */
export class DeliveryFilterDto {
  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(200)
  destinationId?: string;

  @ApiPropertyOptional({ enum: DELIVERY_STATUSES })
  @IsOptional()
  @IsIn(DELIVERY_STATUSES)
  status?: DeliveryStatus;

  @ApiPropertyOptional({ description: 'Created at or after (ISO 8601)', type: String, format: 'date-time' })
  @IsOptional()
  @Type(() => Date)
  @IsDate()
  from?: Date;

  @ApiPropertyOptional({ description: 'Created before (ISO 8601)', type: String, format: 'date-time' })
  @IsOptional()
  @Type(() => Date)
  @IsDate()
  to?: Date;
}

export class ListDeliveriesQuery extends IntersectionType(DeliveryFilterDto, PageQueryDto) {}

export const MAX_BULK_RETRY = 10_000;

export class BulkRetryDto extends DeliveryFilterDto {
  @ApiPropertyOptional({
    description: 'Retry at most this many (oldest first); call again for the rest',
    default: 1000,
    maximum: MAX_BULK_RETRY,
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_BULK_RETRY)
  limit = 1000;
}

export class BulkRetryResult {
  @ApiProperty({ description: 'Deliveries sent back to pending and enqueued' })
  retried!: number;
}
