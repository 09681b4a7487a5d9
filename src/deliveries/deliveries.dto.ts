import { ApiProperty, ApiPropertyOptional, IntersectionType } from '@nestjs/swagger';
import { PageQueryDto } from '../common/page-query.dto';
import { Type } from 'class-transformer';
import { IsDate, IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import type { AttemptOutcome } from '../delivery/delivery-attempt.entity';
import { DeliveryStatus } from '../delivery/delivery.entity';
import { AttemptView, DeliverySummary, FINAL_STATUSES } from '../delivery/delivery.service';
import { NEXT_CURSOR } from '../common/page-query.dto';

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
  @ApiProperty({ example: 12, description: 'Deliveries sent back to pending and enqueued' })
  retried!: number;
}

const ATTEMPT_OUTCOMES: AttemptOutcome[] = ['succeeded', 'retry', 'failed', 'exhausted', 'superseded', 'unchanged'];

/** One delivery attempt as stored, the destination's answer included. */
export class DeliveryAttemptView implements AttemptView {
  @ApiProperty({ example: 1 }) attempt!: number;
  @ApiProperty({ example: '2026-12-01T10:15:02.117Z' }) startedAt!: string;
  @ApiProperty({ example: 84 }) durationMs!: number;
  @ApiProperty({ type: Number, nullable: true, example: 500 }) statusCode!: number | null;
  @ApiProperty({ enum: ATTEMPT_OUTCOMES, example: 'retry' }) outcome!: AttemptOutcome;
  @ApiProperty({ type: String, nullable: true, example: 'HTTP 500' }) error!: string | null;

  @ApiProperty({
    type: String,
    nullable: true,
    example: '{"error":"database is locked"}',
    description: 'What the destination answered (capped at 16 KiB)',
  })
  responseBody!: string | null;

  @ApiProperty({
    type: String,
    nullable: true,
    example: '2026-12-01T10:15:07.201Z',
    description: 'When the next try is due',
  })
  nextAttemptAt!: string | null;
}

/** A delivery: one canonical event to one destination. */
export class DeliveryView implements DeliverySummary {
  @ApiProperty({ example: 'msg_2Wc9KxT4mQ8vN1bR7sLpYe' }) id!: string;
  @ApiProperty({ example: 'dst_4HcN8pQz1VbR7xKm2TwYsL' }) destinationId!: string;
  @ApiProperty({ example: 'evt_6PzM3kW9qT2xV8nB4cRjLh' }) canonicalEventId!: string;
  @ApiProperty({ enum: DELIVERY_STATUSES, example: 'retrying' }) status!: DeliveryStatus;
  @ApiProperty({ example: 1, description: 'Attempts made so far' }) attempts!: number;
  @ApiProperty({ type: Date, nullable: true }) nextAttemptAt!: Date | null;
  @ApiProperty({ type: String, nullable: true, example: 'HTTP 500' }) lastError!: string | null;
  @ApiProperty() createdAt!: Date;
  @ApiProperty() updatedAt!: Date;
}

export class DeliveryDetailView extends DeliveryView {
  @ApiProperty({ type: [DeliveryAttemptView], description: 'Every attempt, oldest first' })
  attempts_log!: DeliveryAttemptView[];
}

export class DeliveryPage {
  @ApiProperty({ type: [DeliveryView] }) items!: DeliveryView[];

  @ApiPropertyOptional({
    example: 'WyIyMDI2LTEyLTAxVDEwOjE1OjAyLjExNzAwMFoiLCJtc2dfMldjOUt4VDRtUTh2TjFiUjdzTHBZZSJd',
    description: NEXT_CURSOR,
  })
  nextCursor?: string;
}
