import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ISSUE_KINDS, IssueActionKind, IssueKindName } from './issue';

export class IssueKeyView {
  @ApiPropertyOptional({ example: 'dst_4mY0bq9x2LrT7kQe1ZsWnA', description: 'delivery' })
  destinationId?: string;
  @ApiPropertyOptional({ enum: ['failed', 'exhausted'], example: 'exhausted', description: 'delivery' })
  status?: string;
  @ApiPropertyOptional({
    example: 'HTTP 400 VALIDATION_ERROR',
    description: 'delivery: the CRM error code and HTTP status of the last attempt, else a network error code',
  })
  code?: string;
  @ApiPropertyOptional({ example: 'salesask', description: 'mapping, enrichment' })
  connector?: string;
  @ApiPropertyOptional({ example: 'recording.processed', description: 'mapping, enrichment: the vendor event type' })
  eventType?: string;
  @ApiPropertyOptional({
    example: 'Mapping salesask/recording.processed failed: …',
    description: 'mapping: the failure with ids, times and counts blanked; verification: the rejection reason',
  })
  reason?: string;
  @ApiPropertyOptional({ example: 'src_0x4Zt8bq1RkLm2YwQe7NsA', description: 'verification' })
  sourceId?: string;
}

export class IssueActionView {
  @ApiProperty({ enum: ['retry', 'renormalize'] })
  kind!: IssueActionKind;
  @ApiProperty({ example: 'Retry 12 deliveries' })
  label!: string;
}

export class IssueGroupView {
  @ApiProperty({
    description: 'Stable for the same group and URL-safe (base64url of kind and key)',
    example: 'WyJkZWxpdmVyeSIseyJjb2RlIjoiSFRUUCA1MDIiLCJkZXN0aW5hdGlvbklkIjoiZHN0XzEiLCJzdGF0dXMiOiJleGhhdXN0ZWQifV0',
  })
  id!: string;
  @ApiProperty({ enum: ISSUE_KINDS, example: 'delivery' })
  kind!: IssueKindName;
  @ApiProperty({ example: 'HubSpot prod: exhausted, HTTP 400 VALIDATION_ERROR' })
  title!: string;
  @ApiProperty({ type: IssueKeyView })
  key!: IssueKeyView;
  @ApiProperty({ example: 12 })
  count!: number;
  @ApiProperty({ example: '2026-03-09T14:45:00.000Z' })
  firstSeenAt!: Date;
  @ApiProperty({ example: '2026-03-09T16:02:11.000Z' })
  lastSeenAt!: Date;
  @ApiProperty({
    type: [String],
    description: 'At most 5, newest first: delivery ids, inbound event ids or rejection ids (by kind)',
    example: ['msg_1f3c…', 'msg_9a0b…'],
  })
  sampleIds!: string[];
  @ApiProperty({ type: IssueActionView, nullable: true, description: 'null: no bulk action (verification)' })
  action!: IssueActionView | null;
}

export class IssueListView {
  @ApiProperty({ type: [IssueGroupView], description: 'Most recently seen first' })
  groups!: IssueGroupView[];
}

export class IssueActionResult {
  @ApiProperty({ enum: ['retry', 'renormalize'] })
  kind!: IssueActionKind;
  @ApiProperty({
    example: 12,
    description: 'Deliveries retried or events re-normalised (at most 10 000 per call; call again for the rest)',
  })
  count!: number;
}
