import { HttpStatus } from '@nestjs/common';
import { exhaustive, HubException } from '../common/hub.exception';

export enum EventErrorCode {
  NotFound = 'event_not_found',
  NotFailed = 'event_not_failed',
}

export class EventException extends HubException<EventErrorCode> {
  get status(): HttpStatus {
    switch (this.code) {
      case EventErrorCode.NotFound:
        return HttpStatus.NOT_FOUND;
      case EventErrorCode.NotFailed:
        return HttpStatus.CONFLICT;
      default:
        return exhaustive(this.code);
    }
  }
}
