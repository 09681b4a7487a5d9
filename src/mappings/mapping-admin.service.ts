import { Injectable } from '@nestjs/common';
import jsonata from 'jsonata';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CanonicalEventService } from '../canonical/canonical-event.service';
import type { CloudEvent } from '../canonical/cloud-event';
import { sha256Hex } from '../common/ids';
import type { ConnectorDefinition } from '../connectors/connector';
import { ConnectorRegistry } from '../connectors/connector.registry';
import { enrichmentOf, InboundEventService } from '../ingest/inbound-event.service';
import { SourceService } from '../sources/source.service';
import { caseEnrichment, loadCases } from './mapping-cases';
import {
  DryRunEventView,
  DryRunView,
  FieldDiffView,
  MappingDetailView,
  MappingEntryView,
  MappingErrorView,
  PreviewMappingDto,
  PreviewView,
} from './mapping.dto';
import { MappingErrorCode, MappingException } from './mapping.exception';
import { MappingOverrideService } from './mapping-override.service';
import { fileVersion, MappingContext, MappingService } from './mapping.service';
import type { MappingEnrichment, MappingExpression } from './mapping.worker';

/**
 * The ops surface of the mappings (DESIGN §6, issue 9): list, versioned overrides checked against the samples and
 * cases before they are stored, preview, and dry-run over real traffic. Evaluation always goes through
 * MappingService's worker threads, with the bounds the pipeline uses; nothing here writes anything but overrides.
 */
@Injectable()
export class MappingAdminService {
  constructor(
    private readonly mappings: MappingService,
    private readonly overrides: MappingOverrideService,
    private readonly connectors: ConnectorRegistry,
    private readonly inbound: InboundEventService,
    private readonly canonical: CanonicalEventService,
    private readonly sources: SourceService,
  ) {}

  async list(): Promise<MappingEntryView[]> {
    const states = new Map((await this.overrides.states()).map((s) => [`${s.connector}/${s.eventType}`, s]));
    const inbound: MappingEntryView[] = this.connectors.list().flatMap((connector) =>
      connector.events.map((event) => {
        const state = states.get(`${connector.id}/${event.type}`);
        if (state?.version) {
          return {
            kind: 'inbound' as const,
            connector: connector.id,
            eventType: event.type,
            origin: 'override' as const,
            version: `override:${state.version}`,
            changedAt: state.changedAt,
            storedVersions: state.versions,
          };
        }
        const file = this.fileEntry(this.mappings.mappingPath(connector.id, event.type));
        // After a revert the file is in effect again since the revert: that is when it last changed for ops.
        const changedAt =
          state && file.changedAt && state.changedAt > file.changedAt ? state.changedAt : file.changedAt;
        return {
          kind: 'inbound' as const,
          connector: connector.id,
          eventType: event.type,
          ...file,
          changedAt,
          storedVersions: state?.versions ?? 0,
        };
      }),
    );
    return [...inbound, ...this.destinationEntries()];
  }

  async detail(connector: string, eventType: string): Promise<MappingDetailView> {
    const definition = this.eventOf(connector, eventType);
    const entry = (await this.list()).find((e) => e.connector === definition.id && e.eventType === eventType);
    const resolved = await this.mappings.resolve(connector, eventType);
    return {
      ...(entry as MappingEntryView),
      expression: resolved.expression.source,
      versions: await this.overrides.versions(connector, eventType),
    };
  }

  /**
   * Compiles the candidate (422 with the JSONata error and its position), runs it on every sample and case of the
   * event type (422 with the failing outputs' paths), then stores it as the next version, in effect at once here
   * and within OVERRIDE_TTL_MS in every other process.
   */
  async save(connector: string, eventType: string, expression: string, comment?: string): Promise<MappingDetailView> {
    const definition = this.eventOf(connector, eventType);
    const candidate = this.candidate(connector, eventType, expression);
    const failures = await this.runFixtures(definition, eventType, candidate);
    if (failures.length) {
      const rejected = new MappingException(
        MappingErrorCode.Rejected,
        `Mapping ${connector}/${eventType} fails on ${failures.length} of its samples and cases: ${failures
          .map((f) => `${f.fixture}: ${f.message}`)
          .join(' | ')}`,
      );
      rejected.details = { failures };
      throw rejected;
    }
    await this.overrides.save(connector, eventType, expression, comment);
    return this.detail(connector, eventType);
  }

  async revert(connector: string, eventType: string): Promise<MappingDetailView> {
    this.eventOf(connector, eventType);
    await this.overrides.revert(connector, eventType);
    return this.detail(connector, eventType);
  }

  /** A version was checked when it was stored; samples only grow with releases, so it is not checked again. */
  async restore(connector: string, eventType: string, version: number): Promise<MappingDetailView> {
    this.eventOf(connector, eventType);
    await this.overrides.restore(connector, eventType, version);
    return this.detail(connector, eventType);
  }

  async preview(dto: PreviewMappingDto): Promise<PreviewView> {
    this.eventOf(dto.connector, dto.eventType);
    if ((dto.payload === undefined) === (dto.inboundEventId === undefined)) {
      throw new MappingException(MappingErrorCode.BadRequest, 'Give exactly one of payload and inboundEventId');
    }
    const resolved = dto.expression
      ? { expression: this.candidate(dto.connector, dto.eventType, dto.expression), version: 'candidate' }
      : await this.mappings.resolve(dto.connector, dto.eventType);

    let raw: Buffer;
    let context: MappingContext;
    if (dto.inboundEventId) {
      const stored = await this.inbound.get(dto.inboundEventId);
      const source = stored && (await this.sources.find(stored.sourceId));
      if (!stored || !source) {
        throw new MappingException(MappingErrorCode.InboundNotFound, `Inbound event ${dto.inboundEventId} not found`);
      }
      if (source.connector !== dto.connector || stored.vendorEventType !== dto.eventType) {
        throw new MappingException(
          MappingErrorCode.BadRequest,
          `Inbound event ${stored.id} is ${source.connector}/${stored.vendorEventType}, not ${dto.connector}/${dto.eventType}`,
        );
      }
      raw = stored.body;
      const enrichment = await this.inbound.enrichmentOf(stored.id);
      context = {
        connector: source.connector,
        vendorEventType: stored.vendorEventType,
        vendorEventId: stored.vendorEventId ?? undefined,
        inboundEventId: stored.id,
        sourceId: stored.sourceId,
        receivedAt: stored.receivedAt,
        occurredAt: stored.occurredAt ?? undefined,
        test: stored.test,
        // Issue 12: previewing a stored event maps it with its stored enrichment, as re-normalise would.
        enrichment:
          enrichment?.status === 'enriched'
            ? { status: 'enriched', document: JSON.stringify(enrichment.document ?? null) }
            : enrichment?.status === 'failed'
              ? { status: 'failed', error: enrichment.error }
              : undefined,
      };
    } else {
      raw = Buffer.from(JSON.stringify(dto.payload));
      context = this.fixtureContext(this.connectors.get(dto.connector), dto.eventType, raw, 'in_preview');
    }

    const started = performance.now();
    let events: CloudEvent[] = [];
    const errors: MappingErrorView[] = [];
    try {
      events = await this.mappings.mapWith(resolved.expression, raw, context);
    } catch (err) {
      if (!(err instanceof MappingException)) throw err;
      errors.push(errorView(err));
    }
    const durationMs = Math.round((performance.now() - started) * 1000) / 1000;
    return { mappingVersion: resolved.version, events, errors, durationMs };
  }

  /** The candidate over the newest `limit` real events of the type, compared field by field with what is stored. */
  async dryRun(connector: string, eventType: string, expression: string, limit = 100): Promise<DryRunView> {
    this.eventOf(connector, eventType);
    const candidate = this.candidate(connector, eventType, expression);
    const rows = await this.inbound.recentOfType(connector, eventType, limit);
    const events: DryRunEventView[] = [];
    for (const row of rows) {
      // Compared with the newest revision: what destinations last received for this event.
      const stored = (await this.canonical.latest(row.id))?.events ?? [];
      const context: MappingContext = {
        connector,
        vendorEventType: row.vendorEventType,
        vendorEventId: row.vendorEventId ?? undefined,
        inboundEventId: row.id,
        sourceId: row.sourceId,
        receivedAt: row.receivedAt,
        occurredAt: row.occurredAt ?? undefined,
        test: row.test,
        enrichment: enrichmentOf(row),
      };
      const base = { inboundEventId: row.id, receivedAt: row.receivedAt, stored: stored.length > 0 };
      try {
        const output = await this.mappings.mapWith(candidate, row.body, context);
        events.push({ ...base, ok: true, diff: diffFields(stored, output) });
      } catch (err) {
        if (!(err instanceof MappingException)) throw err;
        events.push({ ...base, ok: false, error: errorView(err), diff: [] });
      }
    }
    const passed = events.filter((e) => e.ok);
    const changed = passed.filter((e) => e.diff.length > 0).length;
    return {
      total: events.length,
      passed: passed.length,
      failed: events.length - passed.length,
      changed,
      unchanged: passed.length - changed,
      events,
    };
  }

  /** The connector and event type must be known: an override for a type no connector sends would never run. */
  private eventOf(connector: string, eventType: string): ConnectorDefinition {
    const definition = this.connectors.find(connector);
    if (!definition || !definition.events.some((e) => e.type === eventType)) {
      throw new MappingException(MappingErrorCode.NotFound, `No mapping for ${connector}/${eventType}`);
    }
    this.mappings.mappingPath(connector, eventType);
    return definition;
  }

  /** Compiled here first (cheap, and the only way to answer with the position); evaluation stays on the threads. */
  private candidate(connector: string, eventType: string, source: string): MappingExpression {
    try {
      jsonata(source);
    } catch (err) {
      const e = err as { code?: string; position?: number; token?: string; message?: string };
      const failure = new MappingException(
        MappingErrorCode.Compile,
        `Expression does not compile: ${e.message ?? String(err)}${e.position !== undefined ? ` (at ${e.position})` : ''}`,
      );
      failure.details = { jsonataCode: e.code, position: e.position, token: e.token };
      throw failure;
    }
    return { key: sha256Hex(source), name: `${connector}/${eventType} (candidate)`, source };
  }

  /** Every sample of the event type and every case (sample or inline input): the fixtures a version must pass. */
  private async runFixtures(
    connector: ConnectorDefinition,
    eventType: string,
    candidate: MappingExpression,
  ): Promise<({ fixture: string } & MappingErrorView)[]> {
    const event = connector.events.find((e) => e.type === eventType);
    const fixtures: { name: string; raw: Buffer; receivedAt?: string; enrichment?: MappingEnrichment }[] = (
      event?.samples ?? []
    ).map((sample) => ({
      name: `sample ${sample}`,
      raw: this.connectors.sample(connector, sample),
    }));
    for (const mappingCase of loadCases(this.mappings.root, connector.id, eventType)) {
      const enrichment = caseEnrichment(mappingCase);
      // A sample already runs as itself; a case adds to it only with an enrichment (issue 12).
      if (mappingCase.sample && event?.samples.includes(mappingCase.sample) && !enrichment) continue;
      fixtures.push({
        name: `case ${mappingCase.name}`,
        raw: mappingCase.sample
          ? this.connectors.sample(connector, mappingCase.sample)
          : Buffer.from(JSON.stringify(mappingCase.input)),
        receivedAt: mappingCase.receivedAt,
        enrichment,
      });
    }
    const failures: ({ fixture: string } & MappingErrorView)[] = [];
    for (const fixture of fixtures) {
      const context = {
        ...this.fixtureContext(connector, eventType, fixture.raw, 'in_fixture', fixture.receivedAt),
        ...(fixture.enrichment ? { enrichment: fixture.enrichment } : {}),
      };
      try {
        await this.mappings.mapWith(candidate, fixture.raw, context);
      } catch (err) {
        if (!(err instanceof MappingException)) throw err;
        failures.push({ fixture: fixture.name, ...errorView(err) });
      }
    }
    return failures;
  }

  /** The context ingest would have given this body: the connector's envelope, where it can be read. */
  private fixtureContext(
    connector: ConnectorDefinition,
    eventType: string,
    raw: Buffer,
    inboundEventId: string,
    receivedAt?: string,
  ): MappingContext {
    let envelope: { eventId?: string; occurredAt?: Date; test: boolean } = { test: false };
    try {
      envelope = this.connectors.envelope(connector, JSON.parse(raw.toString('utf8')), raw);
    } catch {
      // A body without an envelope still maps; the worker reports a body that is not JSON.
    }
    return {
      connector: connector.id,
      vendorEventType: eventType,
      vendorEventId: envelope.eventId,
      inboundEventId,
      sourceId: 'src_preview',
      receivedAt: receivedAt ? new Date(receivedAt) : new Date(),
      occurredAt: envelope.occurredAt,
      test: envelope.test,
    };
  }

  private fileEntry(path: string): Pick<MappingEntryView, 'origin' | 'version' | 'changedAt'> {
    if (!existsSync(path)) return { origin: 'file', version: 'file:missing' };
    return {
      origin: 'file',
      version: fileVersion(sha256Hex(readFileSync(path, 'utf8'))),
      changedAt: statSync(path).mtime,
    };
  }

  private destinationEntries(): MappingEntryView[] {
    const root = join(this.mappings.root, 'destinations');
    if (!existsSync(root)) return [];
    return readdirSync(root, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .flatMap((crm) =>
        readdirSync(join(root, crm.name))
          .filter((file) => file.endsWith('.jsonata'))
          .sort()
          .map((file) => ({
            kind: 'destination' as const,
            crm: crm.name,
            name: file.replace(/\.jsonata$/, ''),
            ...this.fileEntry(join(root, crm.name, file)),
          })),
      );
  }
}

function errorView(err: MappingException): MappingErrorView {
  const details = err.details as { output?: number; problems?: MappingErrorView['problems'] } | undefined;
  return { code: err.code, message: err.message, ...(details?.problems ? details : {}) };
}

/**
 * Leaf-level differences between the stored events and the candidate's, as `[index].a.b` paths. Arrays are compared
 * by index; a field present on one side only has `before` or `after` left out.
 */
export function diffFields(before: unknown, after: unknown, path = ''): FieldDiffView[] {
  if (isContainer(before) && isContainer(after) && Array.isArray(before) === Array.isArray(after)) {
    const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
    return [...keys].flatMap((key) =>
      diffFields(
        (before as Record<string, unknown>)[key],
        (after as Record<string, unknown>)[key],
        Array.isArray(before) ? `${path}[${key}]` : path ? `${path}.${key}` : key,
      ),
    );
  }
  if (JSON.stringify(before) === JSON.stringify(after)) return [];
  return [
    {
      path,
      ...(before !== undefined ? { before } : {}),
      ...(after !== undefined ? { after } : {}),
    },
  ];
}

function isContainer(value: unknown): value is object {
  return typeof value === 'object' && value !== null;
}
