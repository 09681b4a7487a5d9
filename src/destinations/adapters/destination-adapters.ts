import { Inject, Injectable } from '@nestjs/common';
import type { DestinationType } from '../destination.entity';
import { DESTINATION_ADAPTERS, DestinationAdapter } from './destination-adapter';

/** The adapter of each destination type. */
@Injectable()
export class DestinationAdapters {
  private readonly byType: Map<DestinationType, DestinationAdapter>;

  constructor(@Inject(DESTINATION_ADAPTERS) adapters: DestinationAdapter[]) {
    this.byType = new Map(adapters.map((adapter) => [adapter.type, adapter]));
  }

  get(type: DestinationType): DestinationAdapter {
    const adapter = this.byType.get(type);
    if (!adapter) throw new Error(`No adapter for destination type ${type}`);
    return adapter;
  }

  types(): DestinationType[] {
    return [...this.byType.keys()];
  }

  all(): DestinationAdapter[] {
    return [...this.byType.values()];
  }
}
