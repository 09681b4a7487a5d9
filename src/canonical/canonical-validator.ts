import Ajv, { ValidateFunction } from 'ajv';
import { plainToInstance } from 'class-transformer';
import {
  IsBoolean,
  isEmail,
  IsIn,
  IsISO8601,
  isISO8601,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  ValidateBy,
  validateSync,
  ValidationError,
} from 'class-validator';
import { CANONICAL_TYPES, CanonicalType, CloudEvent, SUBJECT_ENTITIES } from './cloud-event';
import { entityClassFor } from './canonical-entities';
import { JsonSchema, schemaForType } from './canonical-schema';

export const SUBJECT_MAX_LENGTH = 512;

const SUBJECT = new RegExp(`^(${SUBJECT_ENTITIES.join('|')}):[a-z0-9_-]+:(.*)$`, 's');

const vendorId = (value: unknown) => (typeof value === 'string' ? SUBJECT.exec(value)?.[2] : undefined);

/**
 * `<entity>:<connector>:<vendor id>` (DESIGN §4). A subject's vendor id is never empty: `activity:telephony:` (or the
 * `null`/`undefined` a mapping makes of a missing id) would merge unrelated events under one broken subject, so it
 * is refused with a reason that says the id is missing rather than that the format is wrong.
 */
function isSubject(value: unknown): boolean {
  const id = vendorId(value);
  return id !== undefined && !!id.trim() && id !== 'null' && id !== 'undefined';
}

function IsSubject(): PropertyDecorator {
  return ValidateBy({
    name: 'isSubject',
    validator: {
      validate: isSubject,
      defaultMessage: (args) => {
        const value: unknown = args?.value;
        const id = vendorId(value);
        return id === undefined
          ? `subject must be <entity>:<connector>:<vendor id> with entity one of ${SUBJECT_ENTITIES.join(', ')}`
          : `subject ${JSON.stringify(value)} has no vendor id: the mapping found no id for the entity`;
      },
    },
  });
}

class CloudEventShape {
  @IsIn(['1.0']) specversion!: string;
  @Matches(/^evt_[0-9A-Za-z]+$/) id!: string;
  @IsIn(CANONICAL_TYPES as unknown as string[]) type!: string;
  @IsString() source!: string;
  // Subjects are indexed; a btree row holds about 2 700 bytes, and no vendor id is anywhere near this long.
  @IsSubject() @MaxLength(SUBJECT_MAX_LENGTH) subject!: string;
  @IsISO8601({ strict: true }) time!: string;
  @IsIn(['application/json']) datacontenttype!: string;
  @IsString() connector!: string;
  @IsString() vendoreventtype!: string;
  @IsOptional() @IsString() vendoreventid?: string;
  @IsBoolean() test!: boolean;
  @IsOptional() @IsIn(['enriched', 'failed']) enrichment?: string;
  @IsOptional() @IsString() enrichmenterror?: string;
  @IsObject() data!: Record<string, unknown>;
}

/**
 * Returns a list of human-readable problems; empty means the event is a valid canonical CloudEvent.
 *
 * Issue 11: it runs once per mapped event, in the mapping threads. A valid event (nearly all of them) is recognised
 * by validators ajv compiled from the same rules (conforms), with no class instances or decorator metadata per
 * event; only an event they refuse goes through class-validator, whose messages ops read.
 */
export function validateCloudEvent(event: CloudEvent): string[] {
  if (conforms(event)) return [];
  return describeProblems(event);
}

/** The reasons class-validator gives, which name each field and what is wrong with it. */
export function describeProblems(event: CloudEvent): string[] {
  const problems = [...nullPaths(event, '')].map((path) => `${path}: is null; omit unknown fields instead`);
  problems.push(...flattenErrors(validateSync(plainToInstance(CloudEventShape, event)), ''));
  const entity = entityClassFor(event.type);
  if (entity && event.data && typeof event.data === 'object') {
    const errors = validateSync(plainToInstance(entity, event.data), { whitelist: true, forbidNonWhitelisted: true });
    problems.push(...flattenErrors(errors, 'data.'));
  }
  if (event.type === 'activity.transcript_segment') problems.push(...oneSegment(event.data));
  return problems;
}

/** DESIGN §4: `activity.transcript_segment` is the call's Activity with the one new segment as transcript.segments[0]. */
function oneSegment(data: Record<string, unknown> | undefined): string[] {
  const segments = (data?.transcript as { segments?: unknown } | undefined)?.segments;
  if (Array.isArray(segments) && segments.length === 1) return [];
  return ['data.transcript.segments: activity.transcript_segment carries exactly one segment'];
}

function flattenErrors(errors: ValidationError[], prefix: string): string[] {
  return errors.flatMap((error) => {
    const path = `${prefix}${error.property}`;
    const own = Object.values(error.constraints ?? {}).map((message) => `${path}: ${message}`);
    return [...own, ...flattenErrors(error.children ?? [], `${path}.`)];
  });
}

/**
 * Compiled once per thread. It must never accept what class-validator refuses (it may refuse more: such an event
 * only takes the slower way). So the formats are class-validator's own functions, every number must be finite
 * (class-validator's default), and the subject, whose length class-validator counts in UTF-16 units, is checked
 * here with the same function IsSubject uses. canonical-validator.spec.ts holds it to that with generated events.
 */
const ajv = new Ajv({
  strictNumbers: true,
  formats: {
    // Every IsISO8601 in the canonical model is strict; IsEmail takes no options.
    'date-time': (value: string) => isISO8601(value, { strict: true }),
    email: (value: string) => isEmail(value),
  },
});

/** CloudEventShape as a schema; extra envelope attributes pass, as they do there (no whitelist). */
const ENVELOPE: JsonSchema = {
  type: 'object',
  required: [
    'specversion',
    'id',
    'type',
    'source',
    'subject',
    'time',
    'datacontenttype',
    'connector',
    'vendoreventtype',
    'test',
    'data',
  ],
  properties: {
    specversion: { enum: ['1.0'] },
    id: { type: 'string', pattern: '^evt_[0-9A-Za-z]+$' },
    type: { enum: [...CANONICAL_TYPES] },
    source: { type: 'string' },
    subject: { type: 'string' },
    time: { type: 'string', format: 'date-time' },
    datacontenttype: { enum: ['application/json'] },
    connector: { type: 'string' },
    vendoreventtype: { type: 'string' },
    vendoreventid: { type: 'string' },
    test: { type: 'boolean' },
    enrichment: { enum: ['enriched', 'failed'] },
    enrichmenterror: { type: 'string' },
    data: { type: 'object' },
  },
};

let envelope: ValidateFunction | undefined;
const dataByType = new Map<string, ValidateFunction | undefined>();

function dataValidator(type: CanonicalType): ValidateFunction | undefined {
  if (!dataByType.has(type)) dataByType.set(type, entityClassFor(type) ? ajv.compile(schemaForType(type)) : undefined);
  return dataByType.get(type);
}

/** True when class-validator would find no problem (see ajv above); false says only "ask class-validator". */
export function conforms(event: CloudEvent): boolean {
  envelope ??= ajv.compile(ENVELOPE);
  if (!envelope(event) || !isSubject(event.subject) || event.subject.length > SUBJECT_MAX_LENGTH) return false;
  if (!nullPaths(event, '').next().done) return false;
  // The envelope validator has checked that the type is canonical.
  const data = dataValidator(event.type as CanonicalType);
  if (data && !data(event.data)) return false;
  return event.type !== 'activity.transcript_segment' || oneSegment(event.data).length === 0;
}

/**
 * DESIGN §4: unknown values are absent, never null. The paths of the nulls in a value, lazily: describeProblems lists
 * them all, conforms stops at the first.
 */
function* nullPaths(value: unknown, path: string): Generator<string> {
  // A previous value may really have been null (`changes: {description: null}`): that is information, not absence.
  if (path === 'data.changes') return;
  if (value === null) yield path || '(root)';
  else if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) yield* nullPaths(item, `${path}[${i}]`);
  } else if (typeof value === 'object' && value !== undefined) {
    for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
      yield* nullPaths(item, path ? `${path}.${key}` : key);
    }
  }
}
