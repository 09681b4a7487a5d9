import { Inject, Injectable, Optional } from '@nestjs/common';
import jsonata from 'jsonata';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CloudEvent } from '../../../canonical/cloud-event';
import { projectRoot } from '../../../common/project-root';

/** Where destination mappings live; overridable so tests can load their own. */
export const DESTINATION_MAPPINGS_ROOT = Symbol('DESTINATION_MAPPINGS_ROOT');

const LIMITS = { timeoutMs: 500, stackDepth: 200 };

export class DestinationMappingError extends Error {
  override name = 'DestinationMappingError';
}

/**
 * Canonical event → CRM objects: `mappings/destinations/<crm>/<name>.jsonata`, with cases beside them, overridable
 * like the inbound mappings (DESIGN §2). These run in the deliver worker's thread, not the mapping pool: their
 * input is a canonical event the hub already validated and bounded (≤ 10 000 fields), and they are the hub's own
 * small expressions, bounded here to 500 ms and 200 levels.
 */
@Injectable()
export class DestinationMappingService {
  readonly root: string;
  private readonly compiled = new Map<string, ReturnType<typeof jsonata> | null>();

  constructor(@Optional() @Inject(DESTINATION_MAPPINGS_ROOT) root?: string) {
    this.root = root ?? join(projectRoot(), 'mappings', 'destinations');
  }

  has(crm: string, name: string): boolean {
    return this.expression(crm, name) !== null;
  }

  /** Evaluates the mapping; undefined when it produced nothing. Throws DestinationMappingError with the reason. */
  async evaluate<T = unknown>(crm: string, name: string, event: CloudEvent, bindings: Record<string, unknown> = {}) {
    const expression = this.expression(crm, name);
    if (!expression) throw new DestinationMappingError(`No destination mapping ${crm}/${name}.jsonata`);
    try {
      const result: unknown = await expression.evaluate(event, bindings);
      return result === undefined ? undefined : (JSON.parse(JSON.stringify(result)) as T);
    } catch (err) {
      throw new DestinationMappingError(`Destination mapping ${crm}/${name} failed: ${(err as Error).message}`);
    }
  }

  private expression(crm: string, name: string): ReturnType<typeof jsonata> | null {
    const path = join(this.root, crm, `${name}.jsonata`);
    if (this.compiled.has(path)) return this.compiled.get(path)!;
    const compiled = existsSync(path)
      ? jsonata(readFileSync(path, 'utf8'), { timeout: LIMITS.timeoutMs, stack: LIMITS.stackDepth })
      : null;
    this.compiled.set(path, compiled);
    return compiled;
  }
}
