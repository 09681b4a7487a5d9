import { HttpStatus } from '@nestjs/common';
import { exhaustive, HubException } from '../common/hub.exception';

export enum MappingErrorCode {
  NotFound = 'mapping_not_found',
  Compile = 'mapping_compile_error',
  Evaluate = 'mapping_evaluation_error',
  Bounds = 'mapping_out_of_bounds',
  Empty = 'mapping_empty',
  Invalid = 'mapping_output_invalid',
}

/** A mapping that cannot produce valid canonical events: the inbound event is marked failed with this message. */
export class MappingException extends HubException<MappingErrorCode> {
  get status(): HttpStatus {
    switch (this.code) {
      case MappingErrorCode.NotFound:
        return HttpStatus.NOT_FOUND;
      case MappingErrorCode.Compile:
      case MappingErrorCode.Evaluate:
      case MappingErrorCode.Bounds:
      case MappingErrorCode.Empty:
      case MappingErrorCode.Invalid:
        return HttpStatus.UNPROCESSABLE_ENTITY;
      default:
        return exhaustive(this.code);
    }
  }
}
