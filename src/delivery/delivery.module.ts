import { Module } from '@nestjs/common';
import { DeliveryService } from './delivery.service';

/** Owns `delivery` and `delivery_attempt`: claims, leases, the attempt log. */
@Module({ providers: [DeliveryService], exports: [DeliveryService] })
export class DeliveryModule {}
