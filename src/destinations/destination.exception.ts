import { HttpStatus } from '@nestjs/common';
import { exhaustive, HubException } from '../common/hub.exception';

export enum DestinationErrorCode {
  NotFound = 'destination_not_found',
  TargetRefused = 'target_refused',
  InvalidUrl = 'invalid_url',
  InvalidFilter = 'invalid_filter',
  InvalidHeaders = 'invalid_headers',
  InvalidConfig = 'invalid_config',
  UnknownEventTypes = 'unknown_event_types',
  Archived = 'destination_archived',
  PurgeNotConfirmed = 'purge_not_confirmed',
  Disabled = 'destination_disabled',
}

export class DestinationException extends HubException<DestinationErrorCode> {
  get status(): HttpStatus {
    switch (this.code) {
      case DestinationErrorCode.NotFound:
        return HttpStatus.NOT_FOUND;
      case DestinationErrorCode.TargetRefused:
      case DestinationErrorCode.InvalidUrl:
      case DestinationErrorCode.InvalidFilter:
      case DestinationErrorCode.InvalidHeaders:
      case DestinationErrorCode.InvalidConfig:
      case DestinationErrorCode.UnknownEventTypes:
        return HttpStatus.BAD_REQUEST;
      case DestinationErrorCode.Archived:
      case DestinationErrorCode.PurgeNotConfirmed:
      case DestinationErrorCode.Disabled:
        return HttpStatus.CONFLICT;
      default:
        return exhaustive(this.code);
    }
  }
}
