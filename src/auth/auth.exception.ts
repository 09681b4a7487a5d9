import { HttpStatus } from '@nestjs/common';
import { exhaustive, HubException } from '../common/hub.exception';

export enum AuthErrorCode {
  MissingCredentials = 'missing_credentials',
  InvalidApiKey = 'invalid_api_key',
  SessionExpired = 'session_expired',
  CsrfMismatch = 'csrf_mismatch',
}

export class AuthException extends HubException<AuthErrorCode> {
  get status(): HttpStatus {
    switch (this.code) {
      case AuthErrorCode.MissingCredentials:
      case AuthErrorCode.InvalidApiKey:
      case AuthErrorCode.SessionExpired:
        return HttpStatus.UNAUTHORIZED;
      case AuthErrorCode.CsrfMismatch:
        return HttpStatus.FORBIDDEN;
      default:
        return exhaustive(this.code);
    }
  }
}
