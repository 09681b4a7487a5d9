import { ApiProperty } from '@nestjs/swagger';

/** 202: the delivery is stored (committed before this answer) and queued for normalising. */
export class IngestAccepted {
  @ApiProperty({ example: 'in_3JbqYw7N0cVx2RkT9mLs4a', description: 'The inbound event (GET /api/events/:id)' })
  id!: string;
}

/** 200: this delivery was stored before (a vendor retry); nothing is processed twice. */
export class IngestDuplicate extends IngestAccepted {
  @ApiProperty({ example: true })
  duplicate!: true;
}
