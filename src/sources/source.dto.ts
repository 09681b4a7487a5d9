import type { EffectiveVerification } from '../connectors/connector.registry';
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
export interface SourceView {
  id: string;
  name: string;
  connector: string;
  url: string;
  /** The source's own overrides, as given. */
  verification: Record<string, unknown>;
  /** What ingest really checks: connector defaults with the overrides on top. */
  effectiveVerification: EffectiveVerification;
  secretsConfigured: number;
  enabled: boolean;
  /** When it was deleted: an archived source keeps its history and accepts nothing. */
  archivedAt?: Date;
  createdAt: Date;
  updatedAt: Date;
}

/** What a purge deleted for good. */
export class SourcePurge {
  @ApiProperty() id!: string;
  @ApiProperty() purged!: true;
  @ApiProperty({ example: { events: 12, canonicalEvents: 12, deliveries: 24, attempts: 30 } })
  deleted!: { events: number; canonicalEvents: number; deliveries: number; attempts: number };
}
