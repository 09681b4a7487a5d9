import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { NEXT_CURSOR, PageQueryDto } from '../common/page-query.dto';
import { DeliveryDetailView } from '../deliveries/deliveries.dto';
import type { InboundEventSummary } from '../ingest/inbound-event.service';
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

/** One inbound event as the log lists it. */
export class InboundEventView implements InboundEventSummary {
  @ApiProperty({ example: 'in_3JbqYw7N0cVx2RkT9mLs4a' }) id!: string;
  @ApiProperty({ example: 'src_7Qk2mVbN4xHs9TzR1wLcPd' }) sourceId!: string;
  @ApiProperty({ example: 'v1.engagement.updated' }) vendorEventType!: string;
  @ApiPropertyOptional({ example: 'evt_2p1bXyQe6C0n8uKkV3sT' }) vendorEventId?: string;
  @ApiProperty({ enum: INBOUND_STATUSES, example: 'normalized' }) status!: string;
  @ApiPropertyOptional({ example: 'mapping_output_invalid: data.email must be an email', description: 'Why it failed' })
  error?: string;
  @ApiProperty({ example: false }) test!: boolean;
  @ApiProperty() receivedAt!: Date;
  @ApiPropertyOptional({ description: 'When the vendor says it happened' }) occurredAt?: Date;
  @ApiPropertyOptional({ description: 'When retention emptied its payload and headers (HUB_RETENTION_DAYS)' })
  purgedAt?: Date;
}

export class EventPage {
  @ApiProperty({ type: [InboundEventView] }) items!: InboundEventView[];

  @ApiPropertyOptional({
    example: 'WyIyMDI2LTEyLTAxVDEwOjE1OjAxLjkwNDAwMFoiLCJpbl8zSmJxWXc3TjBjVngyUmtUOW1MczRhIl0',
    description: NEXT_CURSOR,
  })
  nextCursor?: string;
}

/** A canonical CloudEvent (DESIGN §4) as stored, with the revision of the output it belongs to. */
export class CanonicalRevisionView {
  @ApiProperty({ example: '1.0' }) specversion!: string;
  @ApiProperty({ example: 'evt_6PzM3kW9qT2xV8nB4cRjLh' }) id!: string;
  @ApiProperty({ example: 'activity.analyzed', description: 'A type from GET /api/canonical' }) type!: string;
  @ApiProperty({ example: 'switchboard/sources/src_7Qk2mVbN4xHs9TzR1wLcPd' }) source!: string;
  @ApiProperty({ example: 'activity:askelephant:eng_123' }) subject!: string;
  @ApiProperty({ example: '2026-12-01T10:14:58Z' }) time!: string;
  @ApiProperty({ example: 'application/json' }) datacontenttype!: string;
  @ApiProperty({ example: 'askelephant' }) connector!: string;
  @ApiProperty({ example: 'v1.engagement.updated' }) vendoreventtype!: string;
  @ApiPropertyOptional({ example: 'evt_2p1bXyQe6C0n8uKkV3sT' }) vendoreventid?: string;
  @ApiProperty({ example: false }) test!: boolean;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'One canonical entity; its JSON Schema is in GET /api/canonical',
    example: { id: 'eng_123', title: 'Discovery call' },
  })
  data!: Record<string, unknown>;

  @ApiProperty({ example: 1, description: 'Output revision: re-normalising with a changed result adds one' })
  revision!: number;
}

/** When one revision of an event's canonical output was stored, and by which mapping version. */
export class EventRevisionView {
  @ApiProperty({ example: 0 }) revision!: number;
  @ApiProperty({ example: '2026-12-01T10:44:35.175Z' }) normalizedAt!: Date;
  @ApiProperty({
    type: String,
    nullable: true,
    example: 'override:3',
    description: '`file:<sha256 prefix>` or `override:<n>`; null for events stored before versions were recorded',
  })
  mappingVersion!: string | null;
  @ApiProperty({ example: 1, description: 'Canonical events in this revision' }) events!: number;
}

/** One inbound event in one document: what ops need to chase it without a database shell. */
export class EventDetailView extends InboundEventView {
  @ApiPropertyOptional({ example: 'askelephant', description: 'Absent when the source was purged' })
  connector?: string;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    example: { scheme: 'standard-webhooks', toleranceSeconds: 300 },
    description: 'The verification scheme and settings of its source',
  })
  verification?: Record<string, unknown>;

  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'string' },
    example: { 'content-type': 'application/json', 'svix-id': 'msg_2p1bXyQe6C0n8uKkV3sT', 'x-api-key': '[redacted]' },
    description: 'Request headers as received, credentials redacted',
  })
  headers!: Record<string, string>;

  @ApiProperty({ enum: ['json', 'text'], description: '`text` when the body is not JSON (or too deep to render)' })
  payloadFormat!: 'json' | 'text';

  @ApiProperty({
    oneOf: [{ type: 'object', additionalProperties: true }, { type: 'string' }],
    description: 'The raw body: parsed JSON, or the text (see payloadFormat)',
    example: { type: 'v1.engagement.updated' },
  })
  payload!: unknown;

  @ApiProperty({ type: [CanonicalRevisionView], description: 'Every revision of its canonical events' })
  canonical!: CanonicalRevisionView[];

  @ApiProperty({ type: [EventRevisionView], description: 'Each revision: when it was normalised, by which mapping' })
  revisions!: EventRevisionView[];

  @ApiProperty({ type: [DeliveryDetailView], description: 'Its deliveries with every attempt' })
  deliveries!: DeliveryDetailView[];
}

export class ReplayResult {
  @ApiProperty({ example: 2, description: 'Deliveries sent again or newly created' }) replayed!: number;
  @ApiProperty({ type: [String], example: ['msg_2Wc9KxT4mQ8vN1bR7sLpYe', 'msg_8Tq1ZfV5nX3cK7wB0mRpJd'] })
  deliveryIds!: string[];
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
