import { HttpStatus } from '@nestjs/common';
import { exhaustive, HubException } from '../common/hub.exception';

/** DESIGN §6/§7: each rejection on /hooks/:sourceId, in the order they are checked. */
export enum IngestErrorCode {
  UnknownSource = 'unknown_source',
  PayloadTooLarge = 'payload_too_large',
  UnsupportedMediaType = 'unsupported_media_type',
  VerificationFailed = 'verification_failed',
  MalformedJson = 'malformed_json',
  MissingEnvelope = 'missing_envelope',
  StoreUnavailable = 'store_unavailable',
}

export class IngestException extends HubException<IngestErrorCode> {
  constructor(code: IngestErrorCode, message: string) {
    super(code, message);
    if (code === IngestErrorCode.StoreUnavailable) this.headers['retry-after'] = '30';
  }

  get status(): HttpStatus {
    switch (this.code) {
      case IngestErrorCode.UnknownSource:
        return HttpStatus.NOT_FOUND;
      case IngestErrorCode.PayloadTooLarge:
        return HttpStatus.PAYLOAD_TOO_LARGE;
      case IngestErrorCode.UnsupportedMediaType:
        return HttpStatus.UNSUPPORTED_MEDIA_TYPE;
      case IngestErrorCode.VerificationFailed:
        return HttpStatus.UNAUTHORIZED;
      case IngestErrorCode.MalformedJson:
      case IngestErrorCode.MissingEnvelope:
        return HttpStatus.BAD_REQUEST;
      case IngestErrorCode.StoreUnavailable:
        return HttpStatus.SERVICE_UNAVAILABLE;
      default:
        return exhaustive(this.code);
    }
  }
}
