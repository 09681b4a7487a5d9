import { ApiProperty } from '@nestjs/swagger';
import { CANONICAL_TYPES } from './cloud-event';

/** One canonical event type with the JSON Schema (draft-07) of its `data`, generated from the validator. */
export class CanonicalTypeView {
  @ApiProperty({ enum: CANONICAL_TYPES, example: 'contact.created' })
  type!: string;

  @ApiProperty({ example: 'Contact', description: 'The entity class its data is validated against' })
  entity!: string;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'JSON Schema (draft-07) of the event data',
    example: {
      $schema: 'http://json-schema.org/draft-07/schema#',
      title: 'contact.created data (Contact)',
      type: 'object',
      required: ['id'],
      properties: { id: { type: 'string' }, email: { type: 'string', format: 'email' } },
    },
  })
  schema!: Record<string, unknown>;
}
