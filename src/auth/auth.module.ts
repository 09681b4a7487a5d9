import { Module } from '@nestjs/common';
import { SessionController } from './session.controller';

/** Console sign-in routes; ApiKeyGuard, ApiKeyService and SessionService are global (CoreModule). */
@Module({ controllers: [SessionController] })
export class AuthModule {}
