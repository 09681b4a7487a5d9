import { Module } from '@nestjs/common';
import { CanonicalEventService } from './canonical-event.service';

/** Owns `canonical_event`. */
@Module({ providers: [CanonicalEventService], exports: [CanonicalEventService] })
export class CanonicalModule {}
