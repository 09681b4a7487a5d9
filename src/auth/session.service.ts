import { Inject, Injectable } from '@nestjs/common';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { LessThan, Repository } from 'typeorm';
import { sha256Hex } from '../common/ids';
import { HUB_CONFIG, HubConfig } from '../config/hub-config';
import { InjectRepo } from '../database/database.module';
import { ApiKeyService } from './api-key.service';
import { AuthErrorCode, AuthException } from './auth.exception';
import { ConsoleSessionEntity } from './console-session.entity';

/** The console's cookie. HttpOnly, so page scripts (and anything injected into them) never see the token. */
export const SESSION_COOKIE = 'sb_session';
export const CSRF_HEADER = 'x-csrf-token';

export interface OpenSession {
  token: string;
  csrfToken: string;
  expiresAt: Date;
}

/**
 * Console sessions (issue 10). The API key is presented once; the browser then holds a random token in an
 * HttpOnly, SameSite=Strict cookie, and the server keeps only the token's SHA-256 with an expiry.
 *
 * CSRF: mutating cookie-authenticated requests must repeat a token in the x-csrf-token header. It is an HMAC of
 * the session token, so it is bound to that session, needs no storage, and only a page that read it from
 * POST/GET /api/session (same origin: SameSite and CORS keep other sites out) can send it.
 */
@Injectable()
export class SessionService {
  constructor(
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
    private readonly apiKeys: ApiKeyService,
    @InjectRepo(ConsoleSessionEntity) private readonly sessions: Repository<ConsoleSessionEntity>,
  ) {}

  /** Signs in with the API key; a wrong key is a 401 and creates nothing. */
  async open(apiKey: string): Promise<OpenSession> {
    if (!this.apiKeys.matches(apiKey)) throw new AuthException(AuthErrorCode.InvalidApiKey, 'Invalid API key');
    // Expired rows are only ever read to be refused; sweeping them here keeps the table small without a job.
    await this.sessions.delete({ expiresAt: LessThan(new Date()) });
    const token = randomBytes(32).toString('base64url');
    const now = new Date();
    const expiresAt = new Date(now.getTime() + this.config.sessionTtlSeconds * 1000);
    await this.sessions.insert({
      tokenSha256: sha256Hex(token),
      keySha256: this.apiKeys.keySha256,
      createdAt: now,
      expiresAt,
    });
    return { token, csrfToken: this.csrfTokenOf(token), expiresAt };
  }

  /** The live session of a cookie token, or a 401 when it is unknown, expired, signed out or for an older key. */
  async resume(token: string | undefined): Promise<{ csrfToken: string; expiresAt: Date }> {
    if (!token) throw new AuthException(AuthErrorCode.MissingCredentials, 'Not signed in');
    const session = await this.sessions.findOneBy({ tokenSha256: sha256Hex(token) });
    if (!session || session.expiresAt.getTime() <= Date.now() || session.keySha256 !== this.apiKeys.keySha256) {
      throw new AuthException(AuthErrorCode.SessionExpired, 'Session expired or ended; sign in again');
    }
    return { csrfToken: this.csrfTokenOf(token), expiresAt: session.expiresAt };
  }

  /** Ends the session server-side: the cookie is worthless from now on, even if a copy of it survives. */
  async close(token: string | undefined): Promise<void> {
    if (token) await this.sessions.delete({ tokenSha256: sha256Hex(token) });
  }

  csrfMatches(token: string, presented: string | undefined): boolean {
    if (!presented) return false;
    const expected = Buffer.from(this.csrfTokenOf(token));
    const given = Buffer.from(presented);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  /** The Set-Cookie value for a new session; Secure whenever the hub is reached over https. */
  cookieFor(session: OpenSession, secure: boolean): string {
    return serializeCookie(SESSION_COOKIE, session.token, this.config.sessionTtlSeconds, secure);
  }

  clearedCookie(secure: boolean): string {
    return serializeCookie(SESSION_COOKIE, '', 0, secure);
  }

  private csrfTokenOf(token: string): string {
    return createHmac('sha256', token).update('switchboard console csrf').digest('base64url');
  }
}

function serializeCookie(name: string, value: string, maxAgeSeconds: number, secure: boolean): string {
  return [
    `${name}=${value}`,
    'HttpOnly',
    'SameSite=Strict',
    'Path=/',
    `Max-Age=${maxAgeSeconds}`,
    ...(secure ? ['Secure'] : []),
  ].join('; ');
}

/** One cookie's value from a Cookie header (RFC 6265 §5.4 syntax: `a=1; b=2`). */
export function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim() || undefined;
  }
  return undefined;
}
