import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';

export const MAX_STATS_HOURS = 168;

export class StatsQuery {
  @ApiPropertyOptional({
    default: 24,
    minimum: 1,
    maximum: MAX_STATS_HOURS,
    description: 'Hour buckets, the last one the current hour',
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_STATS_HOURS)
  hours = 24;
}

export class ConnectorStatsView {
  @ApiProperty({ example: 'askelephant' })
  connector!: string;
  @ApiProperty({ type: [Number], example: [12, 40, 7], description: 'Inbound events stored, per bucket' })
  accepted!: number[];
  @ApiProperty({ type: [Number], example: [0, 3, 0], description: 'Deliveries refused at /hooks (401, 400, 415)' })
  rejected!: number[];
  @ApiProperty({ type: [Number], example: [0, 1, 0], description: 'Of the accepted, events that failed normalisation' })
  failed!: number[];
}

export class DestinationStatsView {
  @ApiProperty({ example: 'dst_4mY0bq9x2LrT7kQe1ZsWnA' })
  destinationId!: string;
  @ApiProperty({ example: 'CRM sink' })
  name!: string;
  @ApiProperty({ example: 'webhook' })
  type!: string;
  @ApiProperty({ type: [Number], example: [12, 38, 7], description: 'Attempts that succeeded, per bucket' })
  delivered!: number[];
  @ApiProperty({
    type: [Number],
    example: [0, 2, 0],
    description: 'Attempts that ended their delivery failed or exhausted, per bucket',
  })
  failed!: number[];
}

export class StatsView {
  @ApiProperty({ example: '2026-03-08T15:00:00.000Z', description: 'Start of the first bucket' })
  from!: string;
  @ApiProperty({ example: '2026-03-09T15:00:00.000Z', description: 'End of the last bucket (the current hour)' })
  to!: string;
  @ApiProperty({ example: 3600 })
  bucketSeconds!: number;
  @ApiProperty({ type: [ConnectorStatsView] })
  connectors!: ConnectorStatsView[];
  @ApiProperty({ type: [DestinationStatsView] })
  destinations!: DestinationStatsView[];
}
