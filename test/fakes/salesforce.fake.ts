import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { AddressInfo } from 'node:net';

/**
 * A fake Salesforce org on 127.0.0.1 that follows the documented REST API shapes (REST API Developer Guide):
 * - PATCH /services/data/vXX.X/sobjects/{SObject}/{externalIdField}/{value}: upsert by external id. 201
 *   `{id, success, errors, created: true}` when created, 200 `{..., created: false}` when updated (204 before
 *   API 46.0), 300 with the matching record URLs when several records share the value.
 * - PATCH /services/data/vXX.X/composite/sobjects/{SObject}/{externalIdField}: sObject Collections upsert, up to 200
 *   records with `attributes.type`, one UpsertResult per record, in order (`errors: [{statusCode, message, fields}]`).
 * - GET /services/data/vXX.X/search?q=FIND {term} IN EMAIL|PHONE FIELDS RETURNING Contact(Id), Lead(Id): SOSL.
 * - Errors are `[{message, errorCode, fields}]`; a bad token is 401 INVALID_SESSION_ID; the daily limit is 403
 *   REQUEST_LIMIT_EXCEEDED; every answer carries `Sforce-Limit-Info: api-usage=USED/MAX`.
 * It checks what the real org checks for these objects: required fields on create (Contact and Lead LastName, Lead
 * Company, Account Name, Event start and end), create-only fields on update (TaskSubtype), 32 000-character
 * Description, existing WhoId/WhatId/AccountId. Tests can tell it to fail, throttle, hang, reject or drop.
 */

export type SalesforceRecord = Record<string, unknown> & { Id: string };

export type SalesforceFault =
  /** 503 with an HTML body, as an overloaded instance answers. */
  | { kind: 'server-error' }
  /** 403 REQUEST_LIMIT_EXCEEDED; `retryAfterSeconds` adds a Retry-After header (Salesforce sends none). */
  | { kind: 'throttle'; message?: string; retryAfterSeconds?: number }
  /** Never answers (until the fake stops). */
  | { kind: 'hang' }
  /** 400 with a validation error. */
  | { kind: 'validation'; errorCode?: string; message?: string; fields?: string[] }
  /** 401 INVALID_SESSION_ID. */
  | { kind: 'invalid-session' }
  /** Applies the write, then destroys the connection without answering. */
  | { kind: 'drop-after-apply' };

export interface SalesforceFakeOptions {
  token?: string;
  externalIdField?: string;
  /** Sforce-Limit-Info: the daily limit and the calls already used today. */
  dailyLimit?: number;
  used?: number;
  /**
   * Answer REQUEST_LIMIT_EXCEEDED past `requests` per `windowMs` (a fixed window), for the benchmark's "100 requests
   * per 10 s" org. Salesforce itself has no per-second limit, only the daily one and concurrent long requests.
   */
  rateLimit?: { requests: number; windowMs: number };
}

export interface SalesforceFakeRequest {
  method: string;
  path: string;
  body: unknown;
  at: number;
}

const ID_PREFIX: Record<string, string> = { Account: '001', Contact: '003', Lead: '00Q', Task: '00T', Event: '00U' };
const REQUIRED_ON_CREATE: Record<string, string[]> = {
  Account: ['Name'],
  Contact: ['LastName'],
  Lead: ['LastName', 'Company'],
  Event: ['StartDateTime', 'EndDateTime'],
  Task: [],
};
const CREATE_ONLY: Record<string, string[]> = { Task: ['TaskSubtype'], Event: ['EventSubtype'] };
const REFERENCES: Record<string, string[]> = {
  WhoId: ['Contact', 'Lead'],
  WhatId: ['Account'],
  AccountId: ['Account'],
};
const LONG_TEXT_LIMIT = 32_000;

interface SalesforceError {
  message: string;
  errorCode: string;
  fields: string[];
}

export class SalesforceFake {
  readonly records = new Map<string, Map<string, SalesforceRecord>>();
  readonly requests: SalesforceFakeRequest[] = [];
  private readonly faults: { fault: SalesforceFault; match: (r: SalesforceFakeRequest) => boolean }[] = [];
  private readonly server: http.Server;
  readonly token: string;
  readonly externalIdField: string;
  dailyLimit: number;
  used: number;
  /** How many requests were refused with REQUEST_LIMIT_EXCEEDED (faults, the rate limit or the daily limit). */
  throttled = 0;
  private readonly rateLimit?: { requests: number; windowMs: number };
  private window = { startedAt: 0, count: 0 };
  url = '';

  constructor(options: SalesforceFakeOptions = {}) {
    this.token = options.token ?? `00D${randomBytes(6).toString('hex')}!fake-session`;
    this.externalIdField = options.externalIdField ?? 'Switchboard_Id__c';
    this.dailyLimit = options.dailyLimit ?? 15_000;
    this.used = options.used ?? 0;
    this.rateLimit = options.rateLimit;
    this.server = http.createServer((req, res) => this.handle(req, res));
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** The next `times` requests that `match` (default: any write) get this fault. */
  fail(fault: SalesforceFault, times = 1, match: (r: SalesforceFakeRequest) => boolean = isWrite): void {
    for (let i = 0; i < times; i++) this.faults.push({ fault, match });
  }

  /** Every record of one SObject. */
  all(sobject: string): SalesforceRecord[] {
    return [...(this.records.get(sobject)?.values() ?? [])];
  }

  /** The records of one SObject whose external id is `value`. */
  byExternalId(sobject: string, value: string): SalesforceRecord[] {
    return this.all(sobject).filter((r) => r[this.externalIdField] === value);
  }

  /** Seeds a record directly, as if someone had created it in Salesforce. */
  seed(sobject: string, fields: Record<string, unknown>): SalesforceRecord {
    const record = { ...fields, Id: newId(sobject) } as SalesforceRecord;
    this.table(sobject).set(record.Id, record);
    return record;
  }

  writes(): SalesforceFakeRequest[] {
    return this.requests.filter(isWrite);
  }

  private table(sobject: string): Map<string, SalesforceRecord> {
    let table = this.records.get(sobject);
    if (!table) this.records.set(sobject, (table = new Map()));
    return table;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        body = Symbol.for('malformed');
      }
      const request = { method: req.method ?? 'GET', path: req.url ?? '/', body, at: Date.now() };
      this.requests.push(request);
      this.used += 1;
      const send = (status: number, payload?: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, {
          'sforce-limit-info': `api-usage=${this.used}/${this.dailyLimit}`,
          ...(payload === undefined ? {} : { 'content-type': 'application/json;charset=UTF-8' }),
          ...headers,
        });
        res.end(payload === undefined ? undefined : typeof payload === 'string' ? payload : JSON.stringify(payload));
      };

      if (req.headers.authorization !== `Bearer ${this.token}`) {
        return send(401, [{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }]);
      }
      const limited = this.overLimit();
      if (limited) {
        this.throttled += 1;
        return send(403, [{ message: limited, errorCode: 'REQUEST_LIMIT_EXCEEDED' }]);
      }
      const index = this.faults.findIndex((f) => f.match(request));
      const fault = index >= 0 ? this.faults.splice(index, 1)[0].fault : undefined;
      switch (fault?.kind) {
        case 'server-error':
          return send(503, '<html><body>Service Unavailable</body></html>', { 'content-type': 'text/html' });
        case 'throttle':
          this.throttled += 1;
          return send(
            403,
            [{ message: fault.message ?? 'TotalRequests Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' }],
            fault.retryAfterSeconds === undefined ? {} : { 'retry-after': String(fault.retryAfterSeconds) },
          );
        case 'hang':
          return;
        case 'validation':
          return send(400, [
            {
              message: fault.message ?? 'Required fields are missing: [LastName]',
              errorCode: fault.errorCode ?? 'REQUIRED_FIELD_MISSING',
              fields: fault.fields ?? ['LastName'],
            },
          ]);
        case 'invalid-session':
          return send(401, [{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }]);
        case 'drop-after-apply':
          this.route(request);
          req.socket.destroy();
          return;
        default: {
          const answer = this.route(request);
          return send(answer.status, answer.body);
        }
      }
    });
  }

  /** The daily limit, then the optional rate window: the message Salesforce gives, or undefined. */
  private overLimit(): string | undefined {
    if (this.used > this.dailyLimit) return 'TotalRequests Limit exceeded.';
    if (!this.rateLimit) return undefined;
    const now = Date.now();
    if (now - this.window.startedAt >= this.rateLimit.windowMs) this.window = { startedAt: now, count: 0 };
    this.window.count += 1;
    return this.window.count > this.rateLimit.requests ? 'Request rate limit exceeded.' : undefined;
  }

  private route(request: SalesforceFakeRequest): { status: number; body?: unknown } {
    const url = new URL(request.path, 'http://fake');
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    // services / data / vXX.X / ...
    if (parts[0] !== 'services' || parts[1] !== 'data' || !/^v\d+\.\d$/.test(parts[2] ?? '')) {
      return notFound('The requested resource does not exist');
    }
    const version = Number(parts[2].slice(1));
    const [kind, ...rest] = parts.slice(3);
    if (typeof request.body === 'symbol') {
      return { status: 400, body: [{ message: 'Unexpected character', errorCode: 'JSON_PARSER_ERROR' }] };
    }
    if (kind === 'sobjects' && rest.length === 3 && request.method === 'PATCH') {
      const [sobject, field, value] = rest;
      return this.upsertOne(version, sobject, field, value, request.body as Record<string, unknown>);
    }
    if (kind === 'composite' && rest[0] === 'sobjects' && rest.length === 3 && request.method === 'PATCH') {
      return this.upsertCollection(rest[1], rest[2], request.body as { allOrNone?: boolean; records?: unknown[] });
    }
    if (kind === 'search' && request.method === 'GET') return this.search(url.searchParams.get('q') ?? '');
    return notFound('The requested resource does not exist');
  }

  private upsertOne(
    version: number,
    sobject: string,
    field: string,
    value: string,
    body: Record<string, unknown>,
  ): { status: number; body?: unknown } {
    if (!ID_PREFIX[sobject]) return notFound(`The requested resource does not exist`);
    if (field !== this.externalIdField) {
      return notFound(`Provided external ID field does not exist or is not accessible: ${field}`);
    }
    if (!body || typeof body !== 'object' || Array.isArray(body)) {
      return { status: 400, body: [{ message: 'Unexpected request body', errorCode: 'JSON_PARSER_ERROR' }] };
    }
    if ('Id' in body || field in body) {
      return badRequest({
        message: `The external ID field ${field} or the Id field must not be in the request body`,
        errorCode: 'INVALID_FIELD',
        fields: [field],
      });
    }
    const matches = this.byExternalId(sobject, value);
    if (matches.length > 1) {
      return {
        status: 300,
        body: matches.map((r) => `/services/data/v${version.toFixed(1)}/sobjects/${sobject}/${r.Id}`),
      };
    }
    const result = this.apply(sobject, value, body, matches[0]);
    if ('error' in result) return badRequest(result.error);
    if (result.created) return { status: 201, body: { id: result.id, success: true, errors: [], created: true } };
    return version >= 46
      ? { status: 200, body: { id: result.id, success: true, errors: [], created: false } }
      : { status: 204 };
  }

  private upsertCollection(
    sobject: string,
    field: string,
    body: { allOrNone?: boolean; records?: unknown[] },
  ): { status: number; body?: unknown } {
    if (!ID_PREFIX[sobject]) return notFound('The requested resource does not exist');
    if (field !== this.externalIdField) {
      return notFound(`Provided external ID field does not exist or is not accessible: ${field}`);
    }
    const records = body?.records;
    if (!Array.isArray(records))
      return badRequest({ message: 'records is required', errorCode: 'INVALID_FIELD', fields: [] });
    if (records.length > 200) {
      return badRequest({ message: 'Maximum number of records is 200', errorCode: 'EXCEEDED_ID_LIMIT', fields: [] });
    }
    const values = records.map((r) => (r as Record<string, unknown>)?.[field]);
    const results = records.map((raw, i) => {
      const record = raw as Record<string, unknown> & { attributes?: { type?: string } };
      const value = values[i];
      const fail = (error: SalesforceError) => ({
        id: null,
        success: false,
        errors: [{ statusCode: error.errorCode, message: error.message, fields: error.fields }],
      });
      if (record?.attributes?.type !== sobject) {
        return fail({ message: `attributes.type must be ${sobject}`, errorCode: 'INVALID_TYPE', fields: [] });
      }
      if (typeof value !== 'string' || !value) {
        return fail({ message: `${field} is required`, errorCode: 'REQUIRED_FIELD_MISSING', fields: [field] });
      }
      if (values.filter((v) => v === value).length > 1) {
        return fail({
          message: `Duplicate external id specified: ${value}`,
          errorCode: 'DUPLICATE_EXTERNAL_ID',
          fields: [field],
        });
      }
      const matches = this.byExternalId(sobject, value);
      if (matches.length > 1) {
        return fail({
          message: `Multiple records found for ${field} = ${value}`,
          errorCode: 'DUPLICATE_EXTERNAL_ID',
          fields: [field],
        });
      }
      const { attributes: _attributes, [field]: _value, ...fields } = record;
      const result = this.apply(sobject, value, fields, matches[0]);
      if ('error' in result) return fail(result.error);
      return { id: result.id, success: true, errors: [], created: result.created };
    });
    return { status: 200, body: results };
  }

  /** Creates or updates one record, with the checks Salesforce makes. */
  private apply(
    sobject: string,
    value: string,
    fields: Record<string, unknown>,
    existing: SalesforceRecord | undefined,
  ): { id: string; created: boolean } | { error: SalesforceError } {
    if (existing) {
      const createOnly = (CREATE_ONLY[sobject] ?? []).filter((f) => f in fields);
      if (createOnly.length) {
        return {
          error: {
            message: `Unable to create/update fields: ${createOnly.join(', ')}. Please check the security settings of this field and verify that it is read/write for your profile or permission set.`,
            errorCode: 'INVALID_FIELD_FOR_INSERT_UPDATE',
            fields: createOnly,
          },
        };
      }
    } else {
      const missing = REQUIRED_ON_CREATE[sobject].filter(
        (f) => fields[f] === undefined || fields[f] === null || fields[f] === '',
      );
      if (missing.length) {
        return {
          error: {
            message: `Required fields are missing: [${missing.join(', ')}]`,
            errorCode: 'REQUIRED_FIELD_MISSING',
            fields: missing,
          },
        };
      }
    }
    for (const [name, text] of Object.entries(fields)) {
      if (typeof text === 'string' && text.length > (name === 'Description' ? LONG_TEXT_LIMIT : 255)) {
        return {
          error: {
            message: `${name}: data value too large: ${text.slice(0, 20)}... (max length=${name === 'Description' ? LONG_TEXT_LIMIT : 255})`,
            errorCode: 'STRING_TOO_LONG',
            fields: [name],
          },
        };
      }
    }
    for (const [name, types] of Object.entries(REFERENCES)) {
      const ref = fields[name];
      if (ref === undefined || ref === null) continue;
      if (!types.some((t) => this.records.get(t)?.has(String(ref)))) {
        return {
          error: {
            message: `${name}: id value of incorrect type: ${String(ref)}`,
            errorCode: 'FIELD_INTEGRITY_EXCEPTION',
            fields: [name],
          },
        };
      }
    }
    if (sobject === 'Task' || sobject === 'Event') {
      const who = existing?.WhoId ?? null;
      const whoId = 'WhoId' in fields ? fields.WhoId : who;
      const whatId = 'WhatId' in fields ? fields.WhatId : (existing?.WhatId ?? null);
      if (typeof whoId === 'string' && whoId.startsWith('00Q') && whatId) {
        return {
          error: {
            message: 'Only a contact can be related to an account or opportunity: set WhatId empty for a lead',
            errorCode: 'FIELD_INTEGRITY_EXCEPTION',
            fields: ['WhatId'],
          },
        };
      }
    }
    if (existing) {
      Object.assign(existing, fields);
      return { id: existing.Id, created: false };
    }
    const record = { ...fields, [this.externalIdField]: value, Id: newId(sobject) } as SalesforceRecord;
    this.table(sobject).set(record.Id, record);
    return { id: record.Id, created: true };
  }

  /** SOSL: FIND {term} IN EMAIL FIELDS | PHONE FIELDS RETURNING Contact(Id), Lead(Id). */
  private search(q: string): { status: number; body?: unknown } {
    const found = /^FIND \{((?:\\.|[^}\\])*)\} IN (EMAIL|PHONE) FIELDS RETURNING (.+)$/.exec(q.trim());
    if (!found) {
      return badRequest({ message: `unexpected token: ${q.slice(0, 40)}`, errorCode: 'MALFORMED_SEARCH', fields: [] });
    }
    const term = found[1].replace(/\\(.)/g, '$1').toLowerCase();
    const kind = found[2];
    const types = [...found[3].matchAll(/(\w+)\(Id\)/g)].map((m) => m[1]);
    const digits = (v: unknown) => String(v ?? '').replace(/[^\d]/g, '');
    const searchRecords = types.flatMap((type) =>
      this.all(type)
        .filter((r) =>
          kind === 'EMAIL'
            ? String(r.Email ?? '').toLowerCase() === term
            : [r.Phone, r.MobilePhone].some((p) => p && digits(p) === digits(term)),
        )
        .map((r) => ({ attributes: { type, url: `/services/data/v60.0/sobjects/${type}/${r.Id}` }, Id: r.Id })),
    );
    return { status: 200, body: { searchRecords } };
  }
}

/** Starts a fake Salesforce org; for tests and the benchmark. */
export async function startSalesforceFake(options: SalesforceFakeOptions = {}): Promise<SalesforceFake> {
  return new SalesforceFake(options).start();
}

function isWrite(r: SalesforceFakeRequest): boolean {
  return r.method === 'PATCH';
}

function notFound(message: string) {
  return { status: 404, body: [{ message, errorCode: 'NOT_FOUND' }] };
}

function badRequest(error: SalesforceError) {
  return { status: 400, body: [error] };
}

function newId(sobject: string): string {
  const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
  const bytes = randomBytes(15);
  return `${ID_PREFIX[sobject] ?? '000'}${[...bytes].map((b) => alphabet[b % 62]).join('')}`;
}
