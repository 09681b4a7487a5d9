import { HttpStatus } from '@nestjs/common';
import { exhaustive, HubException } from '../common/hub.exception';

export enum DeliveriesErrorCode {
  NotFound = 'delivery_not_found',
  BadCursor = 'delivery_bad_cursor',
  /** Retry of a delivery that is pending, retrying or sending: it is already on its way. */
  InFlight = 'delivery_in_flight',
}

export class DeliveriesException extends HubException<DeliveriesErrorCode> {
  get status(): HttpStatus {
    switch (this.code) {
      case DeliveriesErrorCode.NotFound:
        return HttpStatus.NOT_FOUND;
      case DeliveriesErrorCode.BadCursor:
        return HttpStatus.BAD_REQUEST;
      case DeliveriesErrorCode.InFlight:
        return HttpStatus.CONFLICT;
      default:
        return exhaustive(this.code);
    }
  }
}
