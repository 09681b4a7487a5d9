import { Module } from '@nestjs/common';
import { CanonicalEventService } from './canonical-event.service';
import { CanonicalController } from './canonical.controller';

/** Owns `canonical_event`; `/api/canonical` lists the types and their data schemas. */
@Module({ controllers: [CanonicalController], providers: [CanonicalEventService], exports: [CanonicalEventService] })
export class CanonicalModule {}
