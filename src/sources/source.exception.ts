import { HttpStatus } from '@nestjs/common';
import { exhaustive, HubException } from '../common/hub.exception';

export enum SourceErrorCode {
  NotFound = 'source_not_found',
  UnknownConnector = 'unknown_connector',
  InvalidVerification = 'invalid_verification',
  SecretsNotAccepted = 'secrets_not_accepted',
  InvalidEnrichment = 'invalid_enrichment',
  Archived = 'source_archived',
  PurgeNotConfirmed = 'purge_not_confirmed',
}

export class SourceException extends HubException<SourceErrorCode> {
  get status(): HttpStatus {
    switch (this.code) {
      case SourceErrorCode.NotFound:
        return HttpStatus.NOT_FOUND;
      case SourceErrorCode.UnknownConnector:
      case SourceErrorCode.InvalidVerification:
      case SourceErrorCode.SecretsNotAccepted:
      case SourceErrorCode.InvalidEnrichment:
        return HttpStatus.BAD_REQUEST;
      case SourceErrorCode.Archived:
      case SourceErrorCode.PurgeNotConfirmed:
        return HttpStatus.CONFLICT;
      default:
        return exhaustive(this.code);
    }
  }
}
