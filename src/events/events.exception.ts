import { HttpStatus } from '@nestjs/common';
import { exhaustive, HubException } from '../common/hub.exception';

export enum EventErrorCode {
  NotFound = 'event_not_found',
  BadCursor = 'event_bad_cursor',
  /** Replay of an event with no canonical output (still waiting, or failed): re-normalise it instead. */
  NoOutput = 'event_no_output',
  DestinationNotFound = 'event_destination_not_found',
  /** Replay to a destination whose types, test setting or filter take none of the event's canonical events. */
  DestinationNotMatching = 'event_destination_not_matching',
  /** Re-normalise of an event whose raw payload retention already emptied: there is nothing to map. */
  PayloadPurged = 'event_payload_purged',
  /** Enrich of an event its connector declares no fetch for, or whose source has no API key. */
  NotEnrichable = 'event_not_enrichable',
}

export class EventException extends HubException<EventErrorCode> {
  get status(): HttpStatus {
    switch (this.code) {
      case EventErrorCode.NotFound:
      case EventErrorCode.DestinationNotFound:
        return HttpStatus.NOT_FOUND;
      case EventErrorCode.BadCursor:
        return HttpStatus.BAD_REQUEST;
      case EventErrorCode.NoOutput:
      case EventErrorCode.DestinationNotMatching:
      case EventErrorCode.PayloadPurged:
      case EventErrorCode.NotEnrichable:
        return HttpStatus.CONFLICT;
      default:
        return exhaustive(this.code);
    }
  }
}
