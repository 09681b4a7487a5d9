import { Type } from 'class-transformer';
import {
  IsArray,
  IsBoolean,
  IsEmail,
  IsIn,
  IsInt,
  IsISO8601,
  IsNotEmpty,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Min,
  ValidateBy,
  ValidateNested,
} from 'class-validator';

/**
 * An entity's own id. DESIGN §4: a vendor id is never empty. A missing, non-string or blank id is refused with one
 * message naming the field, so a mapping that lost the id fails its event visibly instead of passing a broken entity.
 */
function IsEntityId(): PropertyDecorator {
  return ValidateBy({
    name: 'isEntityId',
    validator: {
      validate: (value) => typeof value === 'string' && value.trim() !== '',
      defaultMessage: (args) =>
        args?.value === undefined
          ? `${args?.property} is missing: the entity needs its vendor id`
          : typeof args.value !== 'string'
            ? `${args.property} must be a string`
            : `${args.property} is empty: the entity needs its vendor id`,
    },
  });
}

/*
 * The canonical sales-activity entities (DESIGN §4): camelCase, ISO-8601 UTC times, absent rather than null.
 * Every entity may carry createdAt/updatedAt (the state version "no stale overwrite" compares),
 * `changes` on updates and `customFields` for vendor fields with no canonical home.
 */

abstract class Versioned {
  @IsOptional() @IsISO8601({ strict: true }) createdAt?: string;
  @IsOptional() @IsISO8601({ strict: true }) updatedAt?: string;
  @IsOptional() @IsObject() changes?: Record<string, unknown>;
  @IsOptional() @IsObject() customFields?: Record<string, unknown>;
}

export class Participant {
  @IsOptional() @IsString() role?: string;
  @IsOptional() @IsString() name?: string;
  @IsOptional() @IsEmail() email?: string;
  @IsOptional() @IsString() phone?: string;
}

export class TranscriptSegment {
  @IsOptional() @IsString() speaker?: string;
  @IsString() text!: string;
  /** When the segment was said, ISO-8601 UTC like every time (vendor unix seconds are converted by the mapping). */
  @IsOptional() @IsISO8601({ strict: true }) at?: string;
}

export class Transcript {
  @IsOptional()
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => TranscriptSegment)
  segments?: TranscriptSegment[];
  @IsOptional() @IsString() text?: string;
}

export class ActionItem {
  @IsString() text!: string;
  @IsOptional() @IsString() owner?: string;
}

export class ProcessScore {
  @IsOptional() @IsInt() @Min(0) followed?: number;
  @IsOptional() @IsInt() @Min(0) missed?: number;
  @IsOptional() @IsInt() @Min(0) total?: number;
  @IsOptional() @IsString() text?: string;
}

export class ActivityLinks {
  @IsOptional() @IsArray() @IsString({ each: true }) contactIds?: string[];
  @IsOptional() @IsArray() @IsString({ each: true }) companyIds?: string[];
  @IsOptional() @IsString() leadId?: string;
  @IsOptional() @IsString() dealId?: string;
}

export class Activity extends Versioned {
  @IsEntityId() id!: string;
  @IsIn(['call', 'meeting', 'recording', 'sms', 'email']) kind!: string;
  @IsOptional() @IsString() title?: string;
  @IsOptional() @IsString() status?: string;
  @IsOptional() @IsIn(['inbound', 'outbound', 'internal']) direction?: string;
  @IsOptional() @IsISO8601({ strict: true }) scheduledAt?: string;
  @IsOptional() @IsISO8601({ strict: true }) startedAt?: string;
  @IsOptional() @IsISO8601({ strict: true }) endedAt?: string;
  @IsOptional() @IsNumber() @Min(0) durationSeconds?: number;
  @IsOptional() @IsArray() @ValidateNested({ each: true }) @Type(() => Participant) participants?: Participant[];
  @IsOptional() @IsString() recordingUrl?: string;
  @IsOptional() @IsString() meetingUrl?: string;
  @IsOptional() @ValidateNested() @Type(() => Transcript) transcript?: Transcript;
  @IsOptional() @IsString() summary?: string;
  @IsOptional() @IsString() notes?: string;
  @IsOptional() @IsArray() @ValidateNested({ each: true }) @Type(() => ActionItem) actionItems?: ActionItem[];
  @IsOptional() @ValidateNested() @Type(() => ProcessScore) process?: ProcessScore;
  @IsOptional() @IsString() error?: string;
  @IsOptional() @ValidateNested() @Type(() => ActivityLinks) links?: ActivityLinks;
}

export class SignalActivity {
  @IsOptional() @IsString() kind?: string;
  @IsOptional() @IsString() id?: string;
}

export class Signal extends Versioned {
  @IsString() code!: string;
  @IsIn(['positive', 'risk', 'neutral']) category!: string;
  @IsOptional() @IsString() changeType?: string;
  @IsOptional() @IsString() description?: string;
  @IsOptional() @IsArray() @IsString({ each: true }) evidence?: string[];
  @IsOptional() @ValidateNested() @Type(() => SignalActivity) activity?: SignalActivity;
  @IsOptional() @IsString() contactId?: string;
  @IsOptional() @IsString() companyId?: string;
}

export class EmailAddress {
  @IsString() address!: string;
  @IsOptional() @IsBoolean() primary?: boolean;
}

export class PhoneNumber {
  @IsString() number!: string;
  @IsOptional() @IsBoolean() primary?: boolean;
}

export class CrmRef {
  @IsString() system!: string;
  @IsOptional() @IsString() objectType?: string;
  @IsString() @IsNotEmpty() id!: string;
}

export class Contact extends Versioned {
  @IsEntityId() id!: string;
  @IsOptional() @IsString() firstName?: string;
  @IsOptional() @IsString() lastName?: string;
  @IsOptional() @IsArray() @ValidateNested({ each: true }) @Type(() => EmailAddress) emails?: EmailAddress[];
  @IsOptional() @IsArray() @ValidateNested({ each: true }) @Type(() => PhoneNumber) phones?: PhoneNumber[];
  @IsOptional() @IsString() companyId?: string;
  @IsOptional() @IsArray() @ValidateNested({ each: true }) @Type(() => CrmRef) crmRefs?: CrmRef[];
}

export class Company extends Versioned {
  @IsEntityId() id!: string;
  @IsOptional() @IsString() name?: string;
  @IsOptional() @IsArray() @IsString({ each: true }) domains?: string[];
  @IsOptional() @IsString() industry?: string;
  @IsOptional() @IsString() website?: string;
  @IsOptional() @IsNumber() employees?: number;
  @IsOptional() @IsArray() @ValidateNested({ each: true }) @Type(() => CrmRef) crmRefs?: CrmRef[];
}

export class Lead extends Versioned {
  @IsEntityId() id!: string;
  @IsOptional() @IsString() name?: string;
  @IsOptional() @IsString() email?: string;
  @IsOptional() @IsString() phone?: string;
  @IsOptional() @IsString() source?: string;
  @IsOptional() @IsString() status?: string;
}

export class Deal extends Versioned {
  @IsEntityId() id!: string;
  @IsOptional() @IsString() leadId?: string;
  @IsOptional() @IsString() stage?: string;
}

export class Note extends Versioned {
  @IsEntityId() id!: string;
  @IsOptional() @IsString() activityId?: string;
  @IsOptional() @IsString() title?: string;
  @IsOptional() @IsString() body?: string;
}

export class Message extends Versioned {
  @IsIn(['sms']) channel!: string;
  @IsOptional() @IsString() from?: string;
  @IsOptional() @IsString() to?: string;
  @IsOptional() @IsString() body?: string;
  @IsOptional() @IsString() leadId?: string;
  @IsOptional() @IsISO8601({ strict: true }) sentAt?: string;
}

export class Tag extends Versioned {
  @IsEntityId() id!: string;
  @IsOptional() @IsString() name?: string;
  @IsOptional() @IsString() color?: string;
  @IsOptional() @IsString() description?: string;
}

/** Which entity class validates `data` for a canonical type. */
export function entityClassFor(type: string): (new () => object) | undefined {
  const prefix = type.split('.')[0];
  switch (prefix) {
    case 'activity':
      return Activity;
    case 'signal':
      return Signal;
    case 'contact':
      return Contact;
    case 'company':
      return Company;
    case 'lead':
      return Lead;
    case 'deal':
      return Deal;
    case 'note':
      return Note;
    case 'message':
      return Message;
    case 'tag':
      return Tag;
    default:
      return undefined;
  }
}
