import { ApiProperty } from '@nestjs/swagger';
import { IsString, Length } from 'class-validator';

export class CreateSessionDto {
  @ApiProperty({ description: 'The management API key; used once, never stored by the console', example: 'sk_…' })
  @IsString()
  @Length(1, 1000)
  apiKey!: string;
}

export class SessionView {
  @ApiProperty({ description: 'Send it back as the x-csrf-token header on POST, PUT, PATCH and DELETE' })
  csrfToken!: string;

  @ApiProperty({ example: '2026-12-01T22:00:00.000Z' })
  expiresAt!: Date;
}
