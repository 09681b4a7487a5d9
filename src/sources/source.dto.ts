import type { EffectiveVerification } from '../connectors/connector.registry';
import { VerificationView } from '../connectors/connectors.dto';
import { ApiProperty, ApiPropertyOptional, OmitType, PartialType } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsObject,
  IsOptional,
  IsString,
  Length,
  Matches,
  MaxLength,
  ValidateIf,
  ValidateNested,
} from 'class-validator';

/**
 * Issue 12: the vendor API credential the hub fetches transcripts and recordings with, and where that API is.
 * The key is write-only (sealed at rest, never shown); `null` removes a field.
 */
export class SourceEnrichmentDto {
  @ApiPropertyOptional({
    type: String,
    nullable: true,
    description: 'The vendor API key (AskElephant: sent as Bearer; Sales Ask: x-api-key). Write-only; null removes it.',
    example: 'sk_live_…',
  })
  @ValidateIf((_o, value) => value !== null)
  @IsOptional()
  @IsString()
  @Length(1, 4000)
  apiKey?: string | null;

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    description:
      'The vendor API base URL; defaults to the one the vendor documents (Sales Ask). Required when it documents ' +
      'none (AskElephant). Private, loopback and link-local targets are refused unless HUB_OUTBOUND_ALLOW lists them.',
    example: 'https://api.askelephant.ai',
  })
  @ValidateIf((_o, value) => value !== null)
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  baseUrl?: string | null;
}

export class CreateSourceDto {
  @ApiProperty({ example: 'AskElephant production' })
  @IsString()
  @Length(1, 200)
  name!: string;

  @ApiProperty({ example: 'askelephant', description: 'A connector id from GET /api/connectors' })
  @Matches(/^[a-z0-9_-]{1,64}$/)
  connector!: string;

  @ApiPropertyOptional({
    type: [String],
    description: 'Signing secrets or tokens; several during a rotation. Write-only.',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(5)
  @IsString({ each: true })
  @Length(1, 1000, { each: true })
  secrets?: string[];

  @ApiPropertyOptional({ description: 'Overrides of the connector verification settings, e.g. {"header": "X-Token"}' })
  @IsOptional()
  @IsObject()
  verification?: Record<string, unknown>;

  @ApiPropertyOptional({
    type: SourceEnrichmentDto,
    nullable: true,
    description: 'API credential for enrichment (issue 12); null removes it. Without one, events are not enriched.',
  })
  @ValidateIf((_o, value) => value !== null)
  @IsOptional()
  @ValidateNested()
  @Type(() => SourceEnrichmentDto)
  enrichment?: SourceEnrichmentDto | null;

  @ApiPropertyOptional({ default: true })
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;
}

/** Everything but the connector may change; each field keeps its create-time validation. */
export class UpdateSourceDto extends PartialType(OmitType(CreateSourceDto, ['connector'] as const)) {}

/** What the API shows of a source's enrichment: never the key. */
export class SourceEnrichmentView {
  @ApiProperty({ description: 'An API key is set: events the connector declares a fetch for are enriched' })
  configured!: boolean;

  @ApiPropertyOptional({ description: "The base URL fetches go to (the source's, else the vendor's documented one)" })
  baseUrl?: string;

  @ApiProperty({ type: [String], example: ['recording.processed'], description: 'Vendor events that are enriched' })
  events!: string[];
}

/** What the API shows of a source: never its secrets. */
export class SourceView {
  @ApiProperty({ example: 'src_7Qk2mVbN4xHs9TzR1wLcPd' })
  id!: string;

  @ApiProperty({ example: 'AskElephant production' })
  name!: string;

  @ApiProperty({ example: 'askelephant' })
  connector!: string;

  @ApiProperty({
    example: 'https://hub.example.com/hooks/src_7Qk2mVbN4xHs9TzR1wLcPd',
    description: 'Where the vendor posts',
  })
  url!: string;

  /** The source's own overrides, as given. */
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    example: { toleranceSeconds: 600 },
    description: 'The overrides as given',
  })
  verification!: Record<string, unknown>;

  /** What ingest really checks: connector defaults with the overrides on top. */
  @ApiProperty({
    type: VerificationView,
    description: 'What ingest checks: connector defaults with the overrides on top',
  })
  effectiveVerification!: EffectiveVerification;

  @ApiProperty({ example: 1, description: 'How many secrets are set; their values are write-only' })
  secretsConfigured!: number;

  @ApiProperty({
    type: SourceEnrichmentView,
    description: 'Enrichment as far as it may be shown: whether an API key is set, never the key',
  })
  enrichment!: SourceEnrichmentView;

  @ApiProperty({ example: true })
  enabled!: boolean;

  /** When it was deleted: an archived source keeps its history and accepts nothing. */
  @ApiPropertyOptional({ description: 'When it was deleted (archived): it accepts nothing, its history stays' })
  archivedAt?: Date;

  @ApiProperty() createdAt!: Date;
  @ApiProperty() updatedAt!: Date;
}

/** What `POST /api/sources/:id/test` started: a test event going through the full pipeline. */
export class SourceTestResult {
  @ApiProperty({ example: 'in_3JbqYw7N0cVx2RkT9mLs4a', description: 'The inbound event (GET /api/events/:id)' })
  id!: string;
  @ApiProperty({ example: 'v1.engagement.updated' }) event!: string;
  @ApiProperty({ example: 'v1.engagement.updated.json' }) sample!: string;
  @ApiProperty({ example: true }) test!: true;
}

/** What a purge deleted for good. */
export class SourcePurge {
  @ApiProperty({ example: 'src_7Qk2mVbN4xHs9TzR1wLcPd' }) id!: string;
  @ApiProperty({ example: true }) purged!: true;
  @ApiProperty({ example: { events: 12, canonicalEvents: 12, deliveries: 24, attempts: 30 } })
  deleted!: { events: number; canonicalEvents: number; deliveries: number; attempts: number };
}
