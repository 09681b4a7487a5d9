import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** Check name → `{status: up|down, …}` with whatever else the check reports. */
const CHECKS = {
  type: 'object' as const,
  additionalProperties: {
    type: 'object',
    properties: { status: { type: 'string', enum: ['up', 'down'] } },
    additionalProperties: true,
  },
};

/** Terminus's health body, kept as is so ops see which dependency is down (DESIGN §7). */
export class HealthView {
  @ApiProperty({ enum: ['ok', 'error'], example: 'ok' })
  status!: 'ok' | 'error';

  @ApiPropertyOptional({
    ...CHECKS,
    description: 'Checks that are up',
    example: { database: { status: 'up' }, redis: { status: 'up' }, destinations: { status: 'up' } },
  })
  info?: Record<string, unknown>;

  @ApiPropertyOptional({
    ...CHECKS,
    description: 'Checks that are down, with the reason',
    example: { redis: { status: 'down', message: 'redis did not answer within 2000 ms' } },
  })
  error?: Record<string, unknown>;

  @ApiPropertyOptional({ ...CHECKS, description: 'Every check' })
  details?: Record<string, unknown>;
}
