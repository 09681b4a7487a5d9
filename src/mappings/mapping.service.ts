import { Inject, Injectable, Optional } from '@nestjs/common';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CloudEvent } from '../canonical/cloud-event';
import { sha256Hex } from '../common/ids';
import { within } from '../common/with-timeout';
import { projectRoot } from '../common/project-root';
import { MappingErrorCode, MappingException } from './mapping.exception';
import { MappingOverrideService } from './mapping-override.service';
import { MappingPool, MappingPoolOptions } from './mapping.pool';
import { MappingContext, MappingExpression } from './mapping.worker';

export { MAPPING_LIMITS } from './mapping.worker';
export type { MappingContext } from './mapping.worker';

/** Where mappings live; overridable so tests can load deliberately broken ones. */
export const MAPPINGS_ROOT = Symbol('MAPPINGS_ROOT');
/** Optional MappingPoolOptions (threads, tasks per thread, hard limit, heap) for the worker-thread pool. */
export const MAPPING_POOL_OPTIONS = Symbol('MAPPING_POOL_OPTIONS');

/** The mapping in effect for a (connector, event type): an override stored by ops, or the file. */
export interface ResolvedMapping {
  expression: MappingExpression;
  origin: 'file' | 'override';
  /** `file:<first 12 hex of the text's sha256>` or `override:<n>`; recorded on every canonical event. */
  version: string;
}

/**
 * Vendor body → validated canonical CloudEvents, through mappings/<connector>/<event>.jsonata.
 * The files are read here, once; parsing, evaluation and validation run on MappingPool's worker threads, so a heavy
 * payload or a runaway mapping never holds the HTTP event loop.
 */
@Injectable()
export class MappingService {
  readonly root: string;
  private readonly pool: MappingPool;
  private readonly expressions = new Map<string, MappingExpression>();

  constructor(
    @Optional() @Inject(MAPPINGS_ROOT) root?: string,
    @Optional() @Inject(MAPPING_POOL_OPTIONS) poolOptions?: MappingPoolOptions,
    // Absent where there is no database (specs of the files, benchmarks): the files alone.
    @Optional() private readonly overrides?: MappingOverrideService,
  ) {
    this.root = root ?? join(projectRoot(), 'mappings');
    this.pool = new MappingPool(poolOptions);
  }

  /** Path of the mapping for (connector, vendor event type): mappings/<connector>/<event>.jsonata. */
  mappingPath(connector: string, vendorEventType: string): string {
    if (!/^[\w.-]+$/.test(vendorEventType) || vendorEventType.includes('..')) {
      throw new MappingException(MappingErrorCode.NotFound, `No mapping for event type "${vendorEventType}"`);
    }
    return join(this.root, connector, `${vendorEventType}.jsonata`);
  }

  /**
   * Runs the mapping on the raw vendor body (UTF-8 JSON, as stored) and returns validated CloudEvents. Throws a
   * MappingException with a clear reason for anything the event is at fault for, and MappingPoolClosedError
   * (retry later) while the hub shuts down.
   */
  async mapRaw(raw: Buffer | string, context: MappingContext): Promise<CloudEvent[]> {
    return (await this.mapRawVersioned(raw, context)).events;
  }

  /** mapRaw, with the version of the mapping that produced the events. */
  async mapRawVersioned(
    raw: Buffer | string,
    context: MappingContext,
  ): Promise<{ events: CloudEvent[]; version: string }> {
    return this.runResolved(await this.resolve(context.connector, context.vendorEventType), raw, context);
  }

  /**
   * mapRawVersioned for a caller that must not wait long (issue 11: ingest, before its ack), as an urgent task: ahead
   * of the tasks waiting for a thread (MappingPool.run). Undefined at once when the pool already holds
   * `bound.perThread` urgent tasks per thread (MappingPool.acceptsUrgent), and undefined after `bound.waitMs` when the
   * mapping has not come back by then (a stuck thread, a slow mapping): that task still runs, and its result or
   * failure is dropped.
   */
  async mapRawSoon(
    raw: Buffer | string,
    context: MappingContext,
    bound: { perThread: number; waitMs: number },
  ): Promise<{ events: CloudEvent[]; version: string } | undefined> {
    const mapping = await this.resolve(context.connector, context.vendorEventType);
    if (!this.pool.acceptsUrgent(bound.perThread)) return undefined;
    const mapped = this.runResolved(mapping, raw, context, true);
    mapped.catch(() => undefined); // a failure after the wait ran out belongs to no one
    return within(mapped, bound.waitMs, undefined);
  }

  private async runResolved(
    mapping: ResolvedMapping,
    raw: Buffer | string,
    context: MappingContext,
    urgent = false,
  ): Promise<{ events: CloudEvent[]; version: string }> {
    return { events: await this.pool.run(mapping.expression, raw, context, urgent), version: mapping.version };
  }

  /** Runs a candidate expression (preview, dry-run, checks before saving) on the same threads, with the same bounds. */
  async mapWith(expression: MappingExpression, raw: Buffer | string, context: MappingContext): Promise<CloudEvent[]> {
    return this.pool.run(expression, raw, context);
  }

  /**
   * The override in effect (MappingOverrideService, refreshed every second), else the file. The override's text
   * goes to the pool with its hash as key, so each thread compiles a new version the first time it sees it.
   */
  async resolve(connector: string, vendorEventType: string): Promise<ResolvedMapping> {
    const path = this.mappingPath(connector, vendorEventType);
    const override = await this.overrides?.active(connector, vendorEventType);
    if (override) {
      return {
        expression: {
          key: override.key,
          name: `${connector}/${vendorEventType}@${override.version}`,
          source: override.expression,
        },
        origin: 'override',
        version: `override:${override.version}`,
      };
    }
    const expression = this.expression(connector, vendorEventType, path);
    return { expression, origin: 'file', version: fileVersion(expression.key) };
  }

  /** The same, from an already parsed body (cases, tests, preview). */
  async map(body: unknown, context: MappingContext): Promise<CloudEvent[]> {
    let raw: string | undefined;
    try {
      raw = JSON.stringify(body);
    } catch (err) {
      // A body nested too deep for the serialiser is the same fault mapRaw reports as a depth bound.
      throw new MappingException(
        err instanceof RangeError ? MappingErrorCode.Bounds : MappingErrorCode.Input,
        `Body for mapping ${context.connector}/${context.vendorEventType} cannot be serialised: ${(err as Error).message}`,
      );
    }
    return this.mapRaw(raw ?? 'null', context);
  }

  /**
   * Terminates the worker threads. LifecycleService calls it once the normalize workers have drained (not a Nest
   * destroy hook of its own, which could run while a mapping is still in flight).
   */
  async close(): Promise<void> {
    await this.pool.close();
  }

  /** The file's text, read once per (connector, event type); a missing file is looked for again next time. */
  private expression(connector: string, vendorEventType: string, path: string): MappingExpression {
    const cached = this.expressions.get(path);
    if (cached) return cached;
    if (!existsSync(path)) {
      throw new MappingException(
        MappingErrorCode.NotFound,
        `No mapping for ${connector}/${vendorEventType} (expected mappings/${connector}/${vendorEventType}.jsonata)`,
      );
    }
    const source = readFileSync(path, 'utf8');
    const expression = { key: sha256Hex(source), name: `${connector}/${vendorEventType}`, source };
    this.expressions.set(path, expression);
    return expression;
  }
}

/** The version label of a file mapping: its text's hash, so a changed file under a new release reads differently. */
export function fileVersion(key: string): string {
  return `file:${key.slice(0, 12)}`;
}
