import { Inject, Injectable, Optional } from '@nestjs/common';
import jsonata from 'jsonata';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { validateCloudEvent } from '../canonical/canonical-validator';
import { CloudEvent } from '../canonical/cloud-event';
import { stableId } from '../common/ids';
import { projectRoot } from '../common/project-root';
import { MappingErrorCode, MappingException } from './mapping.exception';

/** Every evaluation is bounded (jsonata guardrails): a looping mapping fails its event, it never hangs a worker. */
export const MAPPING_LIMITS = { timeoutMs: 1000, stackDepth: 500 };

export interface MappingContext {
  connector: string;
  vendorEventType: string;
  vendorEventId?: string;
  inboundEventId: string;
  sourceId: string;
  receivedAt: Date;
  occurredAt?: Date;
  test: boolean;
}

/** What a mapping returns: one object or an array. The hub fills in the CloudEvents envelope around it. */
interface MappedEvent {
  type: string;
  subject: string;
  time?: string;
  data: Record<string, unknown>;
}

type Compiled = ReturnType<typeof jsonata>;

/** Where mappings live; overridable so tests can load deliberately broken ones. */
export const MAPPINGS_ROOT = Symbol('MAPPINGS_ROOT');

@Injectable()
export class MappingService {
  readonly root: string;
  private readonly compiled = new Map<string, Compiled>();

  constructor(@Optional() @Inject(MAPPINGS_ROOT) root?: string) {
    this.root = root ?? join(projectRoot(), 'mappings');
  }

  /** Path of the mapping for (connector, vendor event type): mappings/<connector>/<event>.jsonata. */
  mappingPath(connector: string, vendorEventType: string): string {
    if (!/^[\w.-]+$/.test(vendorEventType) || vendorEventType.includes('..')) {
      throw new MappingException(MappingErrorCode.NotFound, `No mapping for event type "${vendorEventType}"`);
    }
    return join(this.root, connector, `${vendorEventType}.jsonata`);
  }

  /** The pipeline's entry: the raw stored body. (Interim: the worker-thread pool replaces this.) */
  async mapRaw(raw: Buffer | string, context: MappingContext): Promise<CloudEvent[]> {
    return this.map(JSON.parse(raw.toString()), context);
  }

  async close(): Promise<void> {}

  /** Runs the mapping and returns validated CloudEvents; throws MappingException with a clear reason otherwise. */
  async map(body: unknown, context: MappingContext): Promise<CloudEvent[]> {
    const expression = this.compile(context.connector, context.vendorEventType);
    let result: unknown;
    try {
      result = await expression.evaluate(body, {
        connector: context.connector,
        sourceId: context.sourceId,
        receivedAt: context.receivedAt.toISOString(),
        occurredAt: context.occurredAt?.toISOString(),
        eventId: context.vendorEventId,
      });
    } catch (err) {
      throw this.evaluationError(context, err);
    }
    // Strip jsonata's sequence wrappers and undefined fields: what we store is plain JSON.
    const plain = result === undefined ? undefined : (JSON.parse(JSON.stringify(result)) as unknown);
    const items = (Array.isArray(plain) ? plain : plain === undefined ? [] : [plain]) as MappedEvent[];
    if (!items.length) {
      throw new MappingException(
        MappingErrorCode.Empty,
        `Mapping ${context.connector}/${context.vendorEventType} produced no canonical event`,
      );
    }
    return items.map((item, index) => this.toCloudEvent(item, index, context));
  }

  private toCloudEvent(item: MappedEvent, index: number, context: MappingContext): CloudEvent {
    const time = item?.time ?? context.occurredAt?.toISOString() ?? context.receivedAt.toISOString();
    const parsedTime = new Date(time);
    const event: CloudEvent = {
      specversion: '1.0',
      id: stableId('evt', context.inboundEventId, index),
      type: item?.type,
      source: `switchboard/sources/${context.sourceId}`,
      subject: item?.subject,
      time: Number.isNaN(parsedTime.getTime()) ? time : parsedTime.toISOString(),
      datacontenttype: 'application/json',
      connector: context.connector,
      vendoreventtype: context.vendorEventType,
      ...(context.vendorEventId ? { vendoreventid: context.vendorEventId } : {}),
      test: context.test,
      data: item?.data,
    };
    const problems = validateCloudEvent(event);
    if (problems.length) {
      throw new MappingException(
        MappingErrorCode.Invalid,
        `Mapping ${context.connector}/${context.vendorEventType} output #${index} is not a valid canonical event: ${problems.join('; ')}`,
      );
    }
    return event;
  }

  /** Compiled once per (connector, event type) and cached. */
  private compile(connector: string, vendorEventType: string): Compiled {
    const path = this.mappingPath(connector, vendorEventType);
    const cached = this.compiled.get(path);
    if (cached) return cached;
    if (!existsSync(path)) {
      throw new MappingException(
        MappingErrorCode.NotFound,
        `No mapping for ${connector}/${vendorEventType} (expected mappings/${connector}/${vendorEventType}.jsonata)`,
      );
    }
    let expression: Compiled;
    try {
      expression = jsonata(readFileSync(path, 'utf8'), {
        timeout: MAPPING_LIMITS.timeoutMs,
        stack: MAPPING_LIMITS.stackDepth,
      });
    } catch (err) {
      throw new MappingException(
        MappingErrorCode.Compile,
        `Mapping ${connector}/${vendorEventType} does not compile: ${jsonataMessage(err)}`,
      );
    }
    this.compiled.set(path, expression);
    return expression;
  }

  private evaluationError(context: MappingContext, err: unknown): MappingException {
    const code = (err as { code?: string })?.code;
    const name = `${context.connector}/${context.vendorEventType}`;
    if (code === 'D1012') {
      return new MappingException(
        MappingErrorCode.Bounds,
        `Mapping ${name} ran longer than ${MAPPING_LIMITS.timeoutMs} ms`,
      );
    }
    if (code === 'D1011' || err instanceof RangeError) {
      return new MappingException(
        MappingErrorCode.Bounds,
        `Mapping ${name} recursed deeper than ${MAPPING_LIMITS.stackDepth} levels`,
      );
    }
    return new MappingException(MappingErrorCode.Evaluate, `Mapping ${name} failed: ${jsonataMessage(err)}`);
  }
}

function jsonataMessage(err: unknown): string {
  const e = err as { code?: string; message?: string; position?: number };
  return [e?.message ?? String(err), e?.code ? `(${e.code}${e.position !== undefined ? ` at ${e.position}` : ''})` : '']
    .filter(Boolean)
    .join(' ');
}
