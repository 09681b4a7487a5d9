import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  IsUrl,
  Length,
  Matches,
  Max,
  Min,
  ValidateIf,
} from 'class-validator';
import { DESTINATION_TYPES, DestinationType } from './destination.entity';

const URL_OPTIONS = { require_tld: false, protocols: ['http', 'https'], require_protocol: true };
const EVENT_GLOB = /^[a-z_*]+(\.[a-z_*]+)*$/;

export class CreateDestinationDto {
  @ApiProperty({ example: 'Data warehouse' })
  @IsString()
  @Length(1, 200)
  name!: string;

  @ApiProperty({ enum: DESTINATION_TYPES })
  @IsIn(DESTINATION_TYPES as unknown as string[])
  type!: DestinationType;

  @ApiPropertyOptional({ example: 'https://example.com/hooks/switchboard', description: 'Webhook destinations only' })
  @ValidateIf((dto: CreateDestinationDto) => dto.type === 'webhook' || dto.url !== undefined)
  @IsUrl(URL_OPTIONS)
  url?: string;

  @ApiPropertyOptional({
    description:
      'CRM destinations only (DESIGN §7): hubspot {baseUrl, token, externalIdProperty}; salesforce {instanceUrl, ' +
      'token, apiVersion, externalIdField}; pipedrive {baseUrl, token}. Tokens are write-only.',
    example: { token: 'pat-…' },
  })
  @ValidateIf((dto: CreateDestinationDto) => dto.type !== 'webhook' || dto.config !== undefined)
  @IsObject()
  config?: Record<string, unknown>;

  @ApiProperty({ type: [String], example: ['activity.*'] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(50)
  @Matches(EVENT_GLOB, { each: true, message: 'each eventTypes entry must be a type or glob like activity.* or *' })
  eventTypes!: string[];

  @ApiPropertyOptional({ description: 'whsec_ signing secret; generated when omitted' })
  @IsOptional()
  @Matches(/^whsec_[A-Za-z0-9+/=]{24,}$/, { message: 'secret must be whsec_ followed by base64 (24+ chars)' })
  secret?: string;

  @ApiPropertyOptional({ description: 'Extra request headers (write-only values)' })
  @IsOptional()
  @IsObject()
  headers?: Record<string, string>;

  @ApiPropertyOptional({ description: 'JSONata over the CloudEvent; a falsy result skips this destination' })
  @IsOptional()
  @IsString()
  @Length(1, 10_000)
  filter?: string;

  @ApiPropertyOptional({ default: false, description: 'Receive test events' })
  @IsOptional()
  @IsBoolean()
  includeTest?: boolean;

  @ApiPropertyOptional({ type: [Number], description: 'Seconds between attempts; overrides HUB_RETRY_SCHEDULE' })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(30)
  @IsNumber({}, { each: true })
  @Min(0, { each: true })
  @Max(7 * 86400, { each: true })
  retrySchedule?: number[];
}

export class UpdateDestinationDto {
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 200) name?: string;
  @ApiPropertyOptional() @IsOptional() @IsUrl(URL_OPTIONS) url?: string;

  @ApiPropertyOptional({ type: [String] })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(50)
  @Matches(EVENT_GLOB, { each: true, message: 'each eventTypes entry must be a type or glob like activity.* or *' })
  eventTypes?: string[];

  @ApiPropertyOptional() @IsOptional() @IsObject() headers?: Record<string, string>;
  @ApiPropertyOptional({ description: 'CRM destinations: keys to change; tokens are write-only' })
  @IsOptional()
  @IsObject()
  config?: Record<string, unknown>;
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(0, 10_000) filter?: string;
  @ApiPropertyOptional() @IsOptional() @IsBoolean() includeTest?: boolean;

  @ApiPropertyOptional({ type: [Number] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(30)
  @IsNumber({}, { each: true })
  @Min(0, { each: true })
  @Max(7 * 86400, { each: true })
  retrySchedule?: number[];

  @ApiPropertyOptional({
    enum: ['active', 'disabled'],
    description: 'The same as enabled: "active" re-enables (after a 410 or the failure window), "disabled" disables',
  })
  @IsOptional()
  @IsIn(['active', 'disabled'])
  status?: 'active' | 'disabled';

  @ApiPropertyOptional({
    example: true,
    description:
      'true re-enables a disabled destination: the answer carries `missed` {count, since}, the events it missed, ' +
      'which POST /api/destinations/:id/replay-missed sends; false disables it (by an operator, from now)',
  })
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;
}

/** Delivery health of one destination (issue 9), computed when the destination is read. */
export class DestinationHealthView {
  @ApiProperty({
    type: Number,
    nullable: true,
    example: 0.96,
    description: 'delivered24h / (delivered24h + failed24h), 0..1; null when nothing finished in the last 24 h',
  })
  successRate!: number | null;

  @ApiProperty({ example: 48, description: 'Deliveries that succeeded in the last 24 h' })
  delivered24h!: number;

  @ApiProperty({ example: 2, description: 'Deliveries that ended failed or exhausted in the last 24 h' })
  failed24h!: number;

  @ApiProperty({ example: 3, description: 'Deliveries still owed an attempt: pending, retrying or being sent' })
  backlog!: number;

  @ApiProperty({ type: String, format: 'date-time', nullable: true, example: '2026-12-01T09:58:12.345Z' })
  lastSuccessAt!: string | null;

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    example: '2026-12-01T10:02:40.001Z',
    description: 'When the newest failed attempt was recorded (a retry, a failure or the last attempt)',
  })
  lastFailureAt!: string | null;

  @ApiProperty({
    type: String,
    nullable: true,
    example: 'HTTP 503',
    description: 'That attempt’s error, one line of at most 200 characters, with credentials redacted',
  })
  lastError!: string | null;
}

/** What a re-enabled destination missed while it was disabled; POST …/replay-missed sends it. */
export class MissedEventsView {
  @ApiProperty({
    example: 42,
    description:
      'Canonical events created while it was disabled that match its eventTypes (and includeTest) and that it has ' +
      'no delivery of (its JSONata filter, if any, is applied by replay-missed), plus the deliveries it was owed ' +
      'that failed because it was disabled',
  })
  count!: number;

  @ApiProperty({ format: 'date-time', example: '2026-11-26T10:00:00.000Z', description: 'When it was disabled' })
  since!: string;
}

export class ReplayMissedResult {
  @ApiProperty({ example: 42, description: 'Deliveries created and queued; 0 when everything missed was already sent' })
  count!: number;
}

/** What the API shows of a destination: never a secret, except the signing secret in the create and rotate answers. */
export class DestinationView {
  @ApiProperty({ example: 'dst_4b8Qe1vXw0cT9yZk2LmN3p' }) id!: string;
  @ApiProperty({ example: 'Data warehouse' }) name!: string;
  @ApiProperty({ enum: DESTINATION_TYPES, example: 'webhook' }) type!: string;
  @ApiPropertyOptional({ example: 'https://example.com/hooks/switchboard', description: 'Webhook destinations' })
  url?: string;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: 'CRM destinations: the config without its secrets',
    example: { baseUrl: 'https://api.hubapi.com', externalIdProperty: 'switchboard_external_id' },
  })
  config?: Record<string, unknown>;

  @ApiPropertyOptional({
    type: [String],
    example: ['token'],
    description: 'CRM destinations: which secret config keys are set (their values are write-only)',
  })
  configSecrets?: string[];

  @ApiProperty({ type: [String], example: ['activity.*'] }) eventTypes!: string[];
  @ApiProperty({ type: [String], example: ['x-team'], description: 'Header names only: values are write-only' })
  headers!: string[];

  @ApiPropertyOptional({ example: "data.kind = 'call'" }) filter?: string;
  @ApiProperty({ example: false }) includeTest!: boolean;
  @ApiPropertyOptional({ type: [Number], example: [0, 60, 600] }) retrySchedule?: number[];
  @ApiProperty({ enum: ['active', 'disabled'], example: 'active' }) status!: string;

  @ApiProperty({
    type: String,
    nullable: true,
    example: null,
    description:
      'Why it receives nothing, and since when: "410 Gone from …", the failure window (HUB_DESTINATION_DISABLE_AFTER), ' +
      'an operator, or deletion',
  })
  disabledReason!: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true, example: null }) disabledAt!: Date | null;

  @ApiPropertyOptional({
    format: 'date-time',
    description: 'When it was deleted: an archived destination keeps its deliveries and receives nothing',
  })
  archivedAt?: Date;

  @ApiProperty({ format: 'date-time' }) createdAt!: Date;
  @ApiProperty({ format: 'date-time' }) updatedAt!: Date;
  @ApiPropertyOptional({
    example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    description: 'The signing secret: only in the create and rotate-secret answers, never again',
  })
  secret?: string;

  @ApiProperty({ type: DestinationHealthView }) health!: DestinationHealthView;

  @ApiPropertyOptional({
    type: MissedEventsView,
    description: 'Only in the answer to the PATCH that re-enables a disabled destination',
  })
  missed?: MissedEventsView;
}

/** What a destination purge deleted for good. */
export class DestinationPurge {
  @ApiProperty({ example: 'dst_4HcN8pQz1VbR7xKm2TwYsL' }) id!: string;
  @ApiProperty({ example: true }) purged!: true;
  @ApiProperty({ example: { deliveries: 24, attempts: 30, ledgerEntries: 3 } })
  deleted!: { deliveries: number; attempts: number; ledgerEntries: number };
}
