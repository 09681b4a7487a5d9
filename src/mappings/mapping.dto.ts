import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Length, Matches, Max, MaxLength, Min, NotContains } from 'class-validator';
import type { CloudEvent } from '../canonical/cloud-event';

/** 256 KiB of JSONata is far above any mapping in mappings/ (the largest is a few KiB). */
const MAX_EXPRESSION = 256 * 1024;
/** Postgres text cannot hold NUL: refused as a 400, not a 500 from the INSERT. */
const NUL = '\u0000';
const noNul = (what: string) => ({ message: `${what} must not contain NUL characters` });

export class SaveMappingDto {
  @ApiProperty({
    description: 'The JSONata expression',
    example: '{ "type": "activity.analyzed", "subject": …, "data": … }',
  })
  @IsString()
  @Length(1, MAX_EXPRESSION)
  @NotContains(NUL, noNul('expression'))
  expression!: string;

  @ApiPropertyOptional({ description: 'Why this version', example: 'title falls back to the meeting URL' })
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  @NotContains(NUL, noNul('comment'))
  comment?: string;
}

export class PreviewMappingDto {
  @ApiProperty({ example: 'salesask' })
  @Matches(/^[a-z0-9_-]{1,64}$/)
  connector!: string;

  @ApiProperty({ example: 'recording.processed' })
  @Matches(/^[\w.-]{1,200}$/)
  eventType!: string;

  @ApiPropertyOptional({ description: 'A candidate expression; the mapping in effect when absent' })
  @IsOptional()
  @IsString()
  @Length(1, MAX_EXPRESSION)
  expression?: string;

  @ApiPropertyOptional({ description: 'A vendor body to map (give this or inboundEventId)' })
  @IsOptional()
  payload?: unknown;

  @ApiPropertyOptional({ description: 'A stored inbound event to map (give this or payload)', example: 'in_…' })
  @IsOptional()
  @Matches(/^in_[0-9A-Za-z]{1,64}$/)
  inboundEventId?: string;
}

export class DryRunMappingDto {
  @ApiProperty({ description: 'The candidate JSONata expression' })
  @IsString()
  @Length(1, MAX_EXPRESSION)
  expression!: string;

  @ApiPropertyOptional({ default: 100, minimum: 1, maximum: 1000, description: 'How many of the newest events' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;
}

export class MappingEntryView {
  @ApiProperty({ enum: ['inbound', 'destination'] })
  kind!: 'inbound' | 'destination';
  @ApiPropertyOptional({ example: 'salesask', description: 'Inbound mappings' })
  connector?: string;
  @ApiPropertyOptional({ example: 'recording.processed', description: 'Inbound mappings: the vendor event type' })
  eventType?: string;
  @ApiPropertyOptional({ example: 'hubspot', description: 'Destination mappings' })
  crm?: string;
  @ApiPropertyOptional({ example: 'contact', description: 'Destination mappings: mappings/destinations/<crm>/<name>' })
  name?: string;
  @ApiProperty({ enum: ['file', 'override'] })
  origin!: 'file' | 'override';
  @ApiProperty({ example: 'override:3', description: '`file:<sha256 prefix>` or `override:<n>`' })
  version!: string;
  @ApiPropertyOptional({ description: 'When it last changed (file: its modification time); absent for a missing file' })
  changedAt?: Date;
  @ApiPropertyOptional({ description: 'Override versions stored (inbound mappings)' })
  storedVersions?: number;
}

export class MappingVersionView {
  @ApiProperty() version!: number;
  @ApiProperty() expression!: string;
  @ApiPropertyOptional({ nullable: true }) comment!: string | null;
  @ApiProperty() createdAt!: Date;
  @ApiProperty({ description: 'In effect now' }) active!: boolean;
}

export class MappingDetailView extends MappingEntryView {
  @ApiProperty({ description: 'The text in effect' })
  expression!: string;
  @ApiProperty({ type: [MappingVersionView] })
  versions!: MappingVersionView[];
}

export class MappingProblemView {
  @ApiProperty({ example: 'data.email' }) path!: string;
  @ApiProperty({ example: 'email must be an email' }) message!: string;
}

export class MappingErrorView {
  @ApiProperty({ example: 'mapping_output_invalid' }) code!: string;
  @ApiProperty() message!: string;
  @ApiPropertyOptional({ description: 'Index of the output event that failed validation' }) output?: number;
  @ApiPropertyOptional({ type: [MappingProblemView] }) problems?: MappingProblemView[];
}

export class PreviewView {
  @ApiProperty({ example: 'candidate', description: '`candidate` or the version in effect' })
  mappingVersion!: string;
  @ApiProperty({ description: 'The canonical CloudEvents (empty when the mapping failed)', type: [Object] })
  events!: CloudEvent[];
  @ApiProperty({ type: [MappingErrorView] })
  errors!: MappingErrorView[];
  @ApiProperty({ example: 3.2, description: 'Milliseconds, including the hop to the worker thread' })
  durationMs!: number;
}

/** A field's value in a diff: any JSON value. */
const JSON_VALUE = {
  oneOf: [
    { type: 'object' as const, additionalProperties: true },
    { type: 'array' as const, items: {} },
    { type: 'string' as const },
    { type: 'number' as const },
    { type: 'boolean' as const },
  ],
};

export class FieldDiffView {
  @ApiProperty({ example: '[0].data.title' }) path!: string;
  @ApiPropertyOptional({ ...JSON_VALUE, description: 'Stored value (absent: no such field)', example: 'Call' })
  before?: unknown;
  @ApiPropertyOptional({
    ...JSON_VALUE,
    description: 'Candidate value (absent: no such field)',
    example: 'Call with Jane',
  })
  after?: unknown;
}

export class DryRunEventView {
  @ApiProperty() inboundEventId!: string;
  @ApiProperty() receivedAt!: Date;
  @ApiProperty() ok!: boolean;
  @ApiPropertyOptional({ type: MappingErrorView }) error?: MappingErrorView;
  @ApiProperty({ description: 'Whether the event had stored canonical output to compare with' }) stored!: boolean;
  @ApiProperty({ type: [FieldDiffView], description: 'Fields that differ from the stored output' })
  diff!: FieldDiffView[];
}

export class DryRunView {
  @ApiProperty() total!: number;
  @ApiProperty() passed!: number;
  @ApiProperty() failed!: number;
  @ApiProperty({ description: 'Passed and differs from the stored output' }) changed!: number;
  @ApiProperty({ description: 'Passed and equals the stored output' }) unchanged!: number;
  @ApiProperty({ type: [DryRunEventView] }) events!: DryRunEventView[];
}
