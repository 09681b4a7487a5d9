import { HttpStatus } from '@nestjs/common';
import { exhaustive, HubException } from '../common/hub.exception';

export enum SourceErrorCode {
  NotFound = 'source_not_found',
  UnknownConnector = 'unknown_connector',
  InvalidVerification = 'invalid_verification',
}

export class SourceException extends HubException<SourceErrorCode> {
  get status(): HttpStatus {
    switch (this.code) {
      case SourceErrorCode.NotFound:
        return HttpStatus.NOT_FOUND;
      case SourceErrorCode.UnknownConnector:
      case SourceErrorCode.InvalidVerification:
        return HttpStatus.BAD_REQUEST;
      default:
        return exhaustive(this.code);
    }
  }
}
