import { getMetadataStorage, ValidationTypes } from 'class-validator';
import { CANONICAL_TYPES, CanonicalType } from './cloud-event';
import { entityClassFor } from './canonical-entities';

// class-transformer keeps @Type metadata in a storage its index does not export; the path has no exports map.
type TransformerStorage = typeof import('class-transformer/types/storage');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { defaultMetadataStorage } = require('class-transformer/cjs/storage') as TransformerStorage;

/** A JSON Schema (draft-07) object: the subset the canonical entities need. */
export type JsonSchema = Record<string, unknown>;

export const JSON_SCHEMA_DRAFT = 'http://json-schema.org/draft-07/schema#';

/**
 * The JSON Schema of a canonical type's `data`, generated from the class-validator decorators of its entity class
 * (canonical-entities.ts), so the schema ops read cannot drift from the validator the pipeline runs. Every
 * decorator the entities use has a translation below; a new one throws here (and in the spec) until it gets one.
 */
export function schemaForType(type: CanonicalType): JsonSchema {
  const entity = entityClassFor(type);
  if (!entity) throw new Error(`canonical type ${type} has no entity class`);
  return { $schema: JSON_SCHEMA_DRAFT, title: `${type} data (${entity.name})`, ...schemaForClass(entity) };
}

export function canonicalCatalogue(): { type: CanonicalType; entity: string; schema: JsonSchema }[] {
  return CANONICAL_TYPES.map((type) => ({ type, entity: entityClassFor(type)!.name, schema: schemaForType(type) }));
}

type Class = new () => object;

function schemaForClass(target: Class): JsonSchema {
  const storage = getMetadataStorage();
  const metadatas = storage.getTargetValidationMetadatas(target, '', true, false);
  const byProperty = new Map<string, typeof metadatas>();
  for (const metadata of metadatas) {
    byProperty.set(metadata.propertyName, [...(byProperty.get(metadata.propertyName) ?? []), metadata]);
  }
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  for (const [property, list] of byProperty) {
    let own: JsonSchema = {};
    let items: JsonSchema | undefined;
    let optional = false;
    for (const metadata of list) {
      if (metadata.type === ValidationTypes.CONDITIONAL_VALIDATION) {
        optional = true;
        continue;
      }
      let part: JsonSchema;
      if (metadata.type === ValidationTypes.NESTED_VALIDATION) {
        const nested = defaultMetadataStorage.findTypeMetadata(target, property)?.typeFunction() as Class | undefined;
        if (!nested) throw new Error(`${target.name}.${property}: @ValidateNested needs @Type to have a schema`);
        part = schemaForClass(nested);
      } else if (metadata.type === ValidationTypes.CUSTOM_VALIDATION) {
        const name = storage.getTargetValidatorConstraints(metadata.constraintCls)[0]?.name ?? '';
        part = constraintSchema(name, (metadata.constraints ?? []) as unknown[], `${target.name}.${property}`);
      } else {
        throw new Error(`${target.name}.${property}: no JSON Schema for ${metadata.type} validation`);
      }
      if (metadata.each) items = { ...items, ...part };
      else own = { ...own, ...part };
    }
    if (items) own = { type: 'array', ...own, items };
    properties[property] = own;
    if (!optional) required.push(property);
  }
  // The validator runs with forbidNonWhitelisted: a field the entity does not declare is an error.
  return { type: 'object', properties, ...(required.length ? { required } : {}), additionalProperties: false };
}

function constraintSchema(name: string, constraints: unknown[], where: string): JsonSchema {
  switch (name) {
    case 'isString':
      return { type: 'string' };
    case 'isEntityId':
      // A vendor id is never blank (IsEntityId in canonical-entities.ts).
      return { type: 'string', pattern: '\\S' };
    case 'isNotEmpty':
      return { minLength: 1 };
    case 'isNumber':
      return { type: 'number' };
    case 'isInt':
      return { type: 'integer' };
    case 'isBoolean':
      return { type: 'boolean' };
    case 'isObject':
      return { type: 'object' };
    case 'isArray':
      return { type: 'array' };
    case 'isIn':
      return { enum: constraints[0] as unknown[] };
    case 'isIso8601':
      return { type: 'string', format: 'date-time' };
    case 'isEmail':
      return { type: 'string', format: 'email' };
    case 'min':
      return { minimum: constraints[0] };
    case 'max':
      return { maximum: constraints[0] };
    case 'maxLength':
      return { maxLength: constraints[0] };
    default:
      throw new Error(`${where}: no JSON Schema translation for @${name}; add one in canonical-schema.ts`);
  }
}
