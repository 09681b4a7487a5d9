import { Body, Controller, Delete, Get, HttpCode, Post, Req, Res, UseGuards } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCookieAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiErrors, BODY_ERRORS } from '../common/error-response.dto';
import { ApiKeyGuard } from './api-key.guard';
import { CreateSessionDto, SessionView } from './session.dto';
import { readCookie, SESSION_COOKIE, SessionService } from './session.service';

/** Console sign-in (issue 10). The key goes over the wire once; the browser keeps an HttpOnly cookie. */
@ApiTags('session')
@Controller('api/session')
export class SessionController {
  constructor(private readonly sessions: SessionService) {}

  @Post()
  @ApiOperation({
    summary: 'Sign in with the API key: sets an HttpOnly, SameSite=Strict session cookie',
    description: 'A wrong key answers 401 and sets nothing.',
  })
  @ApiCreatedResponse({ type: SessionView })
  @ApiErrors(...BODY_ERRORS, { 401: 'Wrong API key' }, 503)
  async open(
    @Body() dto: CreateSessionDto,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<SessionView> {
    const session = await this.sessions.open(dto.apiKey);
    reply.header('set-cookie', this.sessions.cookieFor(session, req.protocol === 'https'));
    reply.header('cache-control', 'no-store');
    return { csrfToken: session.csrfToken, expiresAt: session.expiresAt };
  }

  @Get()
  @ApiOperation({ summary: "The current session's CSRF token and expiry; 401 when not signed in" })
  @ApiOkResponse({ type: SessionView })
  @ApiCookieAuth('session')
  @ApiBearerAuth()
  @ApiErrors({ 401: 'Not signed in, or the session expired or ended' }, 503)
  async current(@Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply): Promise<SessionView> {
    reply.header('cache-control', 'no-store');
    return this.sessions.resume(readCookie(req.headers.cookie, SESSION_COOKIE));
  }

  @Delete()
  @HttpCode(204)
  @UseGuards(ApiKeyGuard)
  @ApiOperation({ summary: 'Sign out: ends the session on the server and clears the cookie' })
  @ApiNoContentResponse({ description: 'Signed out (with a Bearer key there is no session to end)' })
  @ApiCookieAuth('session')
  @ApiBearerAuth()
  @ApiErrors({ 401: 'Not signed in', 403: 'The x-csrf-token header of the session is missing or wrong' }, 503)
  async close(@Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply): Promise<void> {
    await this.sessions.close(readCookie(req.headers.cookie, SESSION_COOKIE));
    reply.header('set-cookie', this.sessions.clearedCookie(req.protocol === 'https'));
  }
}
