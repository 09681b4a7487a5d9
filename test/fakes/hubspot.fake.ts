import http from 'node:http';
import { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';

/**
 * A fake HubSpot on 127.0.0.1 that follows the documented CRM v3/v4 request and response shapes (objects
 * batch/upsert, contacts search, properties, v4 associations batch/create), HubSpot's error body
 * `{status: "error", message, correlationId, category}`, and its rate limit: `X-HubSpot-RateLimit-Max`, `-Remaining`,
 * `-Interval-Milliseconds` (rolling window) and `-Daily` / `-Daily-Remaining` on every answer, 429 `RATE_LIMIT` when
 * the window is full. Records live in memory. It can be told to fail (5xx), throttle, hang, reject as invalid, or
 * apply a write and then drop the connection.
 */
export type HubspotFault =
  | { kind: 'status'; status: number }
  | { kind: 'throttle'; retryAfterSeconds?: number }
  | { kind: 'hang' }
  | { kind: 'validation'; message: string }
  | { kind: 'drop-after-apply' };

export interface HubspotFakeOptions {
  token?: string;
  /** Requests per rolling window; default 100 per 10 s like a HubSpot private app. */
  rateLimit?: { max: number; intervalMs: number };
  daily?: number;
}

export interface FakeRecord {
  id: string;
  properties: Record<string, string>;
  createdAt: string;
  updatedAt: string;
}

export interface FakeAssociation {
  fromType: string;
  fromId: string;
  toType: string;
  toId: string;
  typeId: number;
}

const CALL_STATUSES = [
  'BUSY',
  'CALLING_CRM_USER',
  'CANCELED',
  'COMPLETED',
  'CONNECTING',
  'FAILED',
  'IN_PROGRESS',
  'MISSED',
  'NO_ANSWER',
  'QUEUED',
  'RINGING',
];
const MEETING_OUTCOMES = ['SCHEDULED', 'COMPLETED', 'RESCHEDULED', 'NO_SHOW', 'CANCELED'];
const OBJECT_TYPES = ['contacts', 'companies', 'calls', 'meetings', 'notes'];

export class HubspotFake {
  url = '';
  readonly token: string;
  readonly records = new Map<string, Map<string, FakeRecord>>(OBJECT_TYPES.map((t) => [t, new Map()]));
  /** Custom properties per object type (the default ones are not listed). */
  readonly properties = new Map<string, Map<string, Record<string, unknown>>>(OBJECT_TYPES.map((t) => [t, new Map()]));
  readonly associations: FakeAssociation[] = [];
  readonly requests: { method: string; path: string; body: unknown; status?: number }[] = [];
  throttled = 0;
  private readonly faults: { match?: RegExp; fault: HubspotFault }[] = [];
  private readonly window: number[] = [];
  private dailyUsed = 0;
  private nextId = 1000;
  private readonly rateLimit: { max: number; intervalMs: number };
  private readonly daily: number;
  private server!: http.Server;

  constructor(options: HubspotFakeOptions = {}) {
    this.token = options.token ?? 'pat-fake-token';
    this.rateLimit = options.rateLimit ?? { max: 100, intervalMs: 10_000 };
    this.daily = options.daily ?? 250_000;
  }

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => this.handle(req, res, Buffer.concat(chunks).toString('utf8')));
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** The next request whose path matches (any when no pattern) gets this fault instead of its normal answer. */
  inject(fault: HubspotFault, match?: RegExp, times = 1): void {
    for (let i = 0; i < times; i++) this.faults.push({ match, fault });
  }

  list(objectType: string): FakeRecord[] {
    return [...this.records.get(objectType)!.values()];
  }

  find(objectType: string, property: string, value: string): FakeRecord | undefined {
    return this.list(objectType).find((r) => r.properties[property]?.toLowerCase() === value.toLowerCase());
  }

  associationsOf(fromType: string, fromId: string): FakeAssociation[] {
    return this.associations.filter((a) => a.fromType === fromType && a.fromId === fromId);
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse, raw: string): void {
    const path = (req.url ?? '/').split('?')[0];
    let body: unknown;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      return this.answer(res, 400, error('VALIDATION_ERROR', 'Invalid input JSON on line 1'));
    }
    const logged: { method: string; path: string; body: unknown; status?: number } = {
      method: req.method!,
      path,
      body,
    };
    this.requests.push(logged);
    const reply = (status: number, json: unknown, headers: Record<string, string> = {}) => {
      logged.status = status;
      this.answer(res, status, json, headers);
    };

    if (req.headers.authorization !== `Bearer ${this.token}`) {
      return reply(
        401,
        error(
          'INVALID_AUTHENTICATION',
          'Authentication credentials not found. This API supports OAuth 2.0 authentication.',
        ),
      );
    }
    const now = Date.now();
    while (this.window.length && this.window[0] <= now - this.rateLimit.intervalMs) this.window.shift();
    const index = this.faults.findIndex((f) => !f.match || f.match.test(path));
    const fault = index >= 0 ? this.faults.splice(index, 1)[0].fault : undefined;
    if (fault?.kind === 'throttle' || this.window.length >= this.rateLimit.max) {
      this.throttled += 1;
      const retry = fault?.kind === 'throttle' && fault.retryAfterSeconds !== undefined;
      return reply(
        429,
        {
          status: 'error',
          message: 'You have reached your ten_secondly_rolling limit.',
          errorType: 'RATE_LIMIT',
          correlationId: randomUUID(),
          policyName: 'TEN_SECONDLY_ROLLING',
          category: 'RATE_LIMIT',
        },
        { ...this.limitHeaders(0), ...(retry ? { 'retry-after': String(fault.retryAfterSeconds) } : {}) },
      );
    }
    this.window.push(now);
    this.dailyUsed += 1;
    if (fault?.kind === 'hang') return; // never answers; the client's deadline ends it
    if (fault?.kind === 'status') {
      return reply(fault.status, error('INTERNAL_ERROR', 'internal error'));
    }
    if (fault?.kind === 'validation') return reply(400, error('VALIDATION_ERROR', fault.message));
    const [status, json] = this.route(req.method!, path, body);
    if (fault?.kind === 'drop-after-apply') {
      logged.status = status;
      req.socket.destroy();
      return;
    }
    reply(status, json);
  }

  private answer(res: http.ServerResponse, status: number, json: unknown, headers: Record<string, string> = {}) {
    if (res.destroyed) return;
    res.writeHead(status, {
      'content-type': 'application/json;charset=utf-8',
      ...this.limitHeaders(Math.max(0, this.rateLimit.max - this.window.length)),
      ...headers,
    });
    res.end(JSON.stringify(json));
  }

  private limitHeaders(remaining: number): Record<string, string> {
    return {
      'x-hubspot-ratelimit-max': String(this.rateLimit.max),
      'x-hubspot-ratelimit-remaining': String(remaining),
      'x-hubspot-ratelimit-interval-milliseconds': String(this.rateLimit.intervalMs),
      'x-hubspot-ratelimit-daily': String(this.daily),
      'x-hubspot-ratelimit-daily-remaining': String(Math.max(0, this.daily - this.dailyUsed)),
    };
  }

  private route(method: string, path: string, body: unknown): [number, unknown] {
    let m: RegExpMatchArray | null;
    if (method === 'GET' && (m = path.match(/^\/crm\/v3\/properties\/(\w+)\/(\w+)$/))) {
      const property = this.properties.get(m[1])?.get(m[2]);
      return property ? [200, property] : [404, error('OBJECT_NOT_FOUND', `Unable to find property ${m[2]}`)];
    }
    if (method === 'POST' && (m = path.match(/^\/crm\/v3\/properties\/(\w+)$/))) {
      return this.createProperty(m[1], body as Record<string, unknown>);
    }
    if (method === 'POST' && (m = path.match(/^\/crm\/v3\/objects\/(\w+)\/batch\/upsert$/))) {
      return this.upsert(
        m[1],
        body as { inputs?: { id?: string; idProperty?: string; properties?: Record<string, unknown> }[] },
      );
    }
    if (method === 'POST' && path === '/crm/v3/objects/contacts/search') {
      return this.search(body as SearchRequest);
    }
    if (method === 'POST' && (m = path.match(/^\/crm\/v4\/associations\/(\w+)\/(\w+)\/batch\/create$/))) {
      return this.associate(m[1], m[2], body as AssociationRequest);
    }
    return [404, error('OBJECT_NOT_FOUND', `No route for ${method} ${path}`)];
  }

  private createProperty(objectType: string, body: Record<string, unknown>): [number, unknown] {
    const properties = this.properties.get(objectType);
    if (!properties) return [400, error('VALIDATION_ERROR', `Unknown object type ${objectType}`)];
    for (const key of ['name', 'label', 'type', 'fieldType', 'groupName']) {
      if (typeof body?.[key] !== 'string') return [400, error('VALIDATION_ERROR', `Property ${key} is required`)];
    }
    const name = body.name as string;
    if (properties.has(name)) {
      return [409, error('OBJECT_ALREADY_EXISTS', `Property named '${name}' already exists.`)];
    }
    const created = { ...body, hasUniqueValue: body.hasUniqueValue === true, createdAt: new Date().toISOString() };
    properties.set(name, created);
    return [201, created];
  }

  private upsert(
    objectType: string,
    body: { inputs?: { id?: string; idProperty?: string; properties?: Record<string, unknown> }[] },
  ): [number, unknown] {
    const records = this.records.get(objectType);
    if (!records) return [400, error('VALIDATION_ERROR', `Unknown object type ${objectType}`)];
    const inputs = body?.inputs;
    if (!Array.isArray(inputs) || inputs.length === 0 || inputs.length > 100) {
      return [400, error('VALIDATION_ERROR', 'inputs must hold 1 to 100 records')];
    }
    const ids = inputs.map((i) => String(i.id ?? '').toLowerCase());
    if (new Set(ids).size !== ids.length) return [400, error('VALIDATION_ERROR', 'Duplicate IDs found in batch input')];
    for (const input of inputs) {
      const problem = this.invalid(objectType, input);
      if (problem) return [400, error('VALIDATION_ERROR', problem)];
    }
    const startedAt = new Date().toISOString();
    const results = inputs.map((input) => {
      const idProperty = input.idProperty!;
      const existing = this.find(objectType, idProperty, input.id!);
      const properties = Object.fromEntries(Object.entries(input.properties ?? {}).map(([k, v]) => [k, String(v)]));
      const now = new Date().toISOString();
      if (existing) {
        Object.assign(existing.properties, properties, { [idProperty]: input.id! });
        existing.updatedAt = now;
        return { ...existing, new: false, archived: false };
      }
      const id = String(this.nextId++);
      const record: FakeRecord = {
        id,
        properties: { ...properties, [idProperty]: input.id!, hs_object_id: id },
        createdAt: now,
        updatedAt: now,
      };
      records.set(id, record);
      return { ...record, new: true, archived: false };
    });
    return [200, { status: 'COMPLETE', results, startedAt, completedAt: new Date().toISOString() }];
  }

  private invalid(
    objectType: string,
    input: { id?: string; idProperty?: string; properties?: Record<string, unknown> },
  ): string | undefined {
    if (!input.id || !input.idProperty) return 'Each input needs id and idProperty';
    const unique =
      (objectType === 'contacts' && input.idProperty === 'email') ||
      (objectType === 'companies' && input.idProperty === 'domain') ||
      this.properties.get(objectType)?.get(input.idProperty)?.hasUniqueValue === true;
    if (!unique) return `Property "${input.idProperty}" is not a unique identifier property for ${objectType}`;
    const p = input.properties ?? {};
    for (const [name, value] of Object.entries(p)) {
      if (typeof value !== 'string') return `Property values were not valid: ${name} must be a string`;
    }
    if (objectType === 'contacts' && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(input.id)) {
      return `Property values were not valid: [{"isValid":false,"message":"Email address ${input.id} is invalid","error":"INVALID_EMAIL","name":"email"}]`;
    }
    if (objectType === 'calls') {
      if (p.hs_call_direction && !['INBOUND', 'OUTBOUND'].includes(p.hs_call_direction as string)) {
        return `Property values were not valid: ${String(p.hs_call_direction)} was not one of the allowed options for hs_call_direction`;
      }
      if (p.hs_call_status && !CALL_STATUSES.includes(p.hs_call_status as string)) {
        return `Property values were not valid: ${String(p.hs_call_status)} was not one of the allowed options for hs_call_status`;
      }
      if (p.hs_call_duration && !/^\d+$/.test(p.hs_call_duration as string)) {
        return 'Property values were not valid: hs_call_duration must be a number';
      }
    }
    if (
      objectType === 'meetings' &&
      p.hs_meeting_outcome &&
      !MEETING_OUTCOMES.includes(p.hs_meeting_outcome as string)
    ) {
      return `Property values were not valid: ${String(p.hs_meeting_outcome)} was not one of the allowed options for hs_meeting_outcome`;
    }
    if (['calls', 'meetings', 'notes'].includes(objectType) && !p.hs_timestamp) {
      return 'Property values were not valid: hs_timestamp is required';
    }
    for (const [name, value] of Object.entries(p)) {
      if (name.endsWith('_body') && (value as string).length > 65_536) {
        return `Property values were not valid: ${name} is longer than 65536 characters`;
      }
    }
    return undefined;
  }

  private search(body: SearchRequest): [number, unknown] {
    const groups = body?.filterGroups ?? [];
    if (groups.length > 5) return [400, error('VALIDATION_ERROR', 'There can be at most 5 filterGroups')];
    const results = this.list('contacts').filter((record) =>
      groups.some((group) =>
        group.filters.every(
          (f) =>
            f.operator === 'EQ' && record.properties[f.propertyName]?.toLowerCase() === String(f.value).toLowerCase(),
        ),
      ),
    );
    const wanted = body?.properties ?? ['email', 'firstname', 'lastname'];
    return [
      200,
      {
        total: results.length,
        results: results.map((r) => ({
          id: r.id,
          properties: Object.fromEntries(wanted.map((p) => [p, r.properties[p] ?? null])),
          createdAt: r.createdAt,
          updatedAt: r.updatedAt,
          archived: false,
        })),
      },
    ];
  }

  private associate(fromType: string, toType: string, body: AssociationRequest): [number, unknown] {
    const startedAt = new Date().toISOString();
    const results: unknown[] = [];
    const errors: unknown[] = [];
    for (const input of body?.inputs ?? []) {
      const from = this.records.get(fromType)?.get(input.from?.id);
      const to = this.records.get(toType)?.get(input.to?.id);
      if (!from || !to) {
        errors.push({
          status: 'error',
          category: 'VALIDATION_ERROR',
          message: `${from ? toType : fromType} ${from ? input.to?.id : input.from?.id} is not valid`,
          context: { ids: [from ? input.to?.id : input.from?.id] },
        });
        continue;
      }
      for (const type of input.types ?? []) {
        const exists = this.associations.some(
          (a) =>
            a.fromType === fromType &&
            a.fromId === from.id &&
            a.toType === toType &&
            a.toId === to.id &&
            a.typeId === type.associationTypeId,
        );
        if (!exists) {
          this.associations.push({ fromType, fromId: from.id, toType, toId: to.id, typeId: type.associationTypeId });
        }
      }
      results.push({
        fromObjectTypeId: fromType,
        fromObjectId: from.id,
        toObjectTypeId: toType,
        toObjectId: to.id,
        labels: [],
      });
    }
    const answer = { status: 'COMPLETE', results, startedAt, completedAt: new Date().toISOString() };
    return errors.length ? [207, { ...answer, errors, numErrors: errors.length }] : [201, answer];
  }
}

interface SearchRequest {
  filterGroups?: { filters: { propertyName: string; operator: string; value: string }[] }[];
  properties?: string[];
}

interface AssociationRequest {
  inputs?: {
    from: { id: string };
    to: { id: string };
    types?: { associationCategory: string; associationTypeId: number }[];
  }[];
}

function error(category: string, message: string) {
  return { status: 'error', message, correlationId: randomUUID(), category };
}

/** For the benchmark and tests: a started fake HubSpot. */
export function startHubspotFake(options: HubspotFakeOptions = {}): Promise<HubspotFake> {
  return new HubspotFake(options).start();
}
