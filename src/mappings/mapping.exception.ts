import { HttpStatus } from '@nestjs/common';
import { exhaustive, HubException } from '../common/hub.exception';

export enum MappingErrorCode {
  NotFound = 'mapping_not_found',
  Compile = 'mapping_compile_error',
  /** The stored body is not JSON: failing it with a reason beats a parse error that BullMQ would retry forever. */
  Input = 'mapping_input_invalid',
  Evaluate = 'mapping_evaluation_error',
  /** A limit was hit: input size or depth, output size or count, time (cooperative or hard), stack, heap. */
  Bounds = 'mapping_out_of_bounds',
  Empty = 'mapping_empty',
  Invalid = 'mapping_output_invalid',
  /** Ops API: a stored override version that does not exist. */
  VersionNotFound = 'mapping_version_not_found',
  /** Ops API: preview of an inbound event that does not exist (or is not of that connector). */
  InboundNotFound = 'inbound_event_not_found',
  /** Ops API: a candidate expression whose output on the samples and cases is not valid canonical events. */
  Rejected = 'mapping_rejected',
  /** Ops API: a request the DTO cannot express (payload and inboundEventId both or neither). */
  BadRequest = 'mapping_request_invalid',
}

/** A mapping that cannot produce valid canonical events: the inbound event is marked failed with this message. */
export class MappingException extends HubException<MappingErrorCode> {
  get status(): HttpStatus {
    switch (this.code) {
      case MappingErrorCode.NotFound:
      case MappingErrorCode.VersionNotFound:
      case MappingErrorCode.InboundNotFound:
        return HttpStatus.NOT_FOUND;
      case MappingErrorCode.BadRequest:
        return HttpStatus.BAD_REQUEST;
      case MappingErrorCode.Compile:
      case MappingErrorCode.Input:
      case MappingErrorCode.Evaluate:
      case MappingErrorCode.Bounds:
      case MappingErrorCode.Empty:
      case MappingErrorCode.Invalid:
      case MappingErrorCode.Rejected:
        return HttpStatus.UNPROCESSABLE_ENTITY;
      default:
        return exhaustive(this.code);
    }
  }
}
