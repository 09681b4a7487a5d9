import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { ApiKeyService } from './api-key.service';
import { AuthErrorCode, AuthException } from './auth.exception';
import { CSRF_HEADER, readCookie, SESSION_COOKIE, SessionService } from './session.service';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

interface GuardedRequest {
  method: string;
  headers: Record<string, string | string[] | undefined>;
}

/**
 * Every `/api` route requires `Authorization: Bearer <key>` or a console session cookie. A request that brings
 * a Bearer header is judged on it alone (a wrong key is a 401 even with a valid cookie). Cookie-authenticated
 * requests that change something must also carry the session's x-csrf-token; Bearer ones need not, since a
 * browser never attaches an Authorization header on its own.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly apiKeys: ApiKeyService,
    private readonly sessions: SessionService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<GuardedRequest>();
    const authorization = single(request.headers.authorization);
    if (authorization !== undefined) {
      const match = /^Bearer\s+(\S+)$/i.exec(authorization);
      if (!match) throw new AuthException(AuthErrorCode.MissingCredentials, 'Authorization must be Bearer <api key>');
      if (!this.apiKeys.matches(match[1])) throw new AuthException(AuthErrorCode.InvalidApiKey, 'Invalid API key');
      return true;
    }
    const token = readCookie(single(request.headers.cookie), SESSION_COOKIE);
    if (!token) {
      throw new AuthException(
        AuthErrorCode.MissingCredentials,
        'Missing Authorization: Bearer <api key> (or a console session)',
      );
    }
    await this.sessions.resume(token);
    if (!SAFE_METHODS.has(request.method) && !this.sessions.csrfMatches(token, single(request.headers[CSRF_HEADER]))) {
      throw new AuthException(AuthErrorCode.CsrfMismatch, `Missing or wrong ${CSRF_HEADER} header for this session`);
    }
    return true;
  }
}

const single = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);
