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

  @ApiPropertyOptional({ enum: ['active', 'disabled'], description: 'Set "active" to re-enable after a 410' })
  @IsOptional()
  @IsIn(['active', 'disabled'])
  status?: 'active' | 'disabled';
}

/** What the API shows of a destination: never a secret, except the signing secret in the create and rotate answers. */
export class DestinationView {
  @ApiProperty({ example: 'dst_4HcN8pQz1VbR7xKm2TwYsL' })
  id!: string;

  @ApiProperty({ example: 'Data warehouse' })
  name!: string;

  @ApiProperty({ enum: DESTINATION_TYPES, example: 'webhook' })
  type!: string;

  @ApiPropertyOptional({ example: 'https://example.com/hooks/switchboard', description: 'Webhook destinations' })
  url?: string;

  /** CRM destinations: the config without its secrets. */
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    example: { baseUrl: 'https://api.hubapi.com', externalIdProperty: 'switchboard_external_id' },
    description: 'CRM destinations: the config without its secrets',
  })
  config?: Record<string, unknown>;

  /** CRM destinations: which secret config keys are set (their values are write-only). */
  @ApiPropertyOptional({
    type: [String],
    example: ['token'],
    description: 'CRM destinations: secret keys that are set',
  })
  configSecrets?: string[];

  @ApiProperty({ type: [String], example: ['activity.*'] })
  eventTypes!: string[];

  /** Header names only: values are write-only. */
  @ApiProperty({ type: [String], example: ['x-team'], description: 'Extra header names; values are write-only' })
  headers!: string[];

  @ApiPropertyOptional({ example: 'data.direction = "inbound"', description: 'JSONata over the CloudEvent' })
  filter?: string;

  @ApiProperty({ example: false, description: 'Receives test events' })
  includeTest!: boolean;

  @ApiPropertyOptional({ type: [Number], example: [0, 5, 300], description: 'Seconds between attempts' })
  retrySchedule?: number[];

  @ApiProperty({ enum: ['active', 'disabled'], example: 'active' })
  status!: string;

  @ApiPropertyOptional({
    example: '410 Gone from https://example.com/hooks/switchboard',
    description: 'Why it is disabled',
  })
  disabledReason?: string;

  /** When it was deleted: an archived destination keeps its deliveries and receives nothing. */
  @ApiPropertyOptional({ description: 'When it was deleted (archived): it receives nothing, its deliveries stay' })
  archivedAt?: Date;

  @ApiProperty() createdAt!: Date;
  @ApiProperty() updatedAt!: Date;

  /** Only in the creation and rotation answers. */
  @ApiPropertyOptional({
    example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    description: 'The signing secret: only in the create and rotate-secret answers, never again',
  })
  secret?: string;
}

/** What a destination purge deleted for good. */
export class DestinationPurge {
  @ApiProperty({ example: 'dst_4HcN8pQz1VbR7xKm2TwYsL' }) id!: string;
  @ApiProperty({ example: true }) purged!: true;
  @ApiProperty({ example: { deliveries: 24, attempts: 30, ledgerEntries: 3 } })
  deleted!: { deliveries: number; attempts: number; ledgerEntries: number };
}
