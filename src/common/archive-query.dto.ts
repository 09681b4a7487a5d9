import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsOptional } from 'class-validator';

/** Query strings carry text: only `true` is true. */
const toBoolean = ({ value }: { value: unknown }) => value === true || value === 'true';

/** `GET /api/sources` and `/api/destinations`: deleted (archived) entries are hidden unless asked for. */
export class ArchivedQuery {
  @ApiPropertyOptional({ default: false, description: 'Include deleted (archived) entries' })
  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean()
  archived?: boolean;
}

/** `POST …/purge`: deleting history for good needs an explicit confirmation once there is history. */
export class PurgeQuery {
  @ApiPropertyOptional({ default: false, description: 'Required when there is history to delete' })
  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean()
  confirm?: boolean;
}
