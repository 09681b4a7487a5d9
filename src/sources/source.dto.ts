import type { EffectiveVerification } from '../connectors/connector.registry';
import { VerificationView } from '../connectors/connectors.dto';
import { ApiProperty, ApiPropertyOptional, OmitType, PartialType } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsBoolean, IsObject, IsOptional, IsString, Length, Matches } from 'class-validator';

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

  @ApiPropertyOptional({ default: true })
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;
}

/** Everything but the connector may change; each field keeps its create-time validation. */
export class UpdateSourceDto extends PartialType(OmitType(CreateSourceDto, ['connector'] as const)) {}

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
