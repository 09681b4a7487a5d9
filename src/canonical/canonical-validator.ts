import { plainToInstance } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsISO8601,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  ValidateBy,
  validateSync,
  ValidationError,
} from 'class-validator';
import { CANONICAL_TYPES, CloudEvent, SUBJECT_ENTITIES } from './cloud-event';
import { entityClassFor } from './canonical-entities';

export const SUBJECT_MAX_LENGTH = 512;

const SUBJECT = new RegExp(`^(${SUBJECT_ENTITIES.join('|')}):[a-z0-9_-]+:(.*)$`, 's');

/**
 * `<entity>:<connector>:<vendor id>` (DESIGN §4). A subject's vendor id is never empty: `activity:telephony:` (or the
 * `null`/`undefined` a mapping makes of a missing id) would merge unrelated events under one broken subject, so it
 * is refused with a reason that says the id is missing rather than that the format is wrong.
 */
function IsSubject(): PropertyDecorator {
  const vendorId = (value: unknown) => (typeof value === 'string' ? SUBJECT.exec(value)?.[2] : undefined);
  const missing = (id: string) => !id.trim() || id === 'null' || id === 'undefined';
  return ValidateBy({
    name: 'isSubject',
    validator: {
      validate: (value) => {
        const id = vendorId(value);
        return id !== undefined && !missing(id);
      },
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

/** Returns a list of human-readable problems; empty means the event is a valid canonical CloudEvent. */
export function validateCloudEvent(event: CloudEvent): string[] {
  const problems = [...findNulls(event, '')];
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

/** DESIGN §4: unknown values are absent, never null. */
function findNulls(value: unknown, path: string): string[] {
  // A previous value may really have been null (`changes: {description: null}`): that is information, not absence.
  if (path === 'data.changes') return [];
  if (value === null) return [`${path || '(root)'}: is null; omit unknown fields instead`];
  if (Array.isArray(value)) return value.flatMap((item, i) => findNulls(item, `${path}[${i}]`));
  if (typeof value === 'object' && value !== undefined) {
    return Object.entries(value as Record<string, unknown>).flatMap(([key, item]) =>
      findNulls(item, path ? `${path}.${key}` : key),
    );
  }
  return [];
}
