import http from 'node:http';
import { AddressInfo } from 'node:net';

/**
 * A fake Pipedrive on 127.0.0.1 that follows the documented shapes (pipedrive/client-nodejs v2 and v1 models):
 * `x-api-token` auth, `{success, data, additional_data}` answers, `{success: false, error, error_info}` errors,
 * `x-ratelimit-limit|remaining|reset` on every answer and 429 with `retry-after` over the budget. Records live in
 * memory. It can be told to fail (5xx), throttle (429), hang, reject validation, or apply a write and then drop
 * the connection.
 */

export interface FakePerson {
  id: number;
  name: string;
  emails: { value: string; primary: boolean; label?: string }[];
  phones: { value: string; primary: boolean; label?: string }[];
  org_id: number | null;
  add_time: string;
  update_time: string;
}

export interface FakeOrganization {
  id: number;
  name: string;
  add_time: string;
  update_time: string;
}

export interface FakeActivity {
  id: number;
  subject: string;
  type: string;
  due_date: string | null;
  due_time: string | null;
  duration: string | null;
  done: boolean;
  note: string | null;
  person_id: number | null;
  participants: { person_id: number; primary: boolean }[];
  add_time: string;
  update_time: string;
}

export interface FakeNote {
  id: number;
  content: string;
  person_id: number | null;
  org_id: number | null;
  deal_id: number | null;
  add_time: string;
  update_time: string;
}

export interface FakeRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  body?: Record<string, unknown>;
  token?: string;
  at: number;
}

/** What the next matching request gets instead of a normal answer. */
export type FakeFault =
  | { kind: 'fail'; status?: number }
  | { kind: 'throttle'; retryAfterSeconds: number }
  | { kind: 'hang' }
  | { kind: 'reject'; error: string; errorInfo?: string }
  | { kind: 'apply-then-drop' };

export interface PipedriveFakeOptions {
  token?: string;
  /** Requests allowed per window before 429 (Pipedrive's budget is per rolling 2 s window). */
  rateLimit?: { limit: number; windowMs: number };
}

/** v2 times are RFC 3339; v1 (notes) times are `YYYY-MM-DD HH:MM:SS` in UTC. */
const now = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
const nowV1 = () => new Date().toISOString().replace('T', ' ').slice(0, 19);
const timeOf = (value: string) => Date.parse(value.includes('T') ? value : `${value.replace(' ', 'T')}Z`);

export class PipedriveFake {
  readonly persons = new Map<number, FakePerson>();
  readonly organizations = new Map<number, FakeOrganization>();
  readonly activities = new Map<number, FakeActivity>();
  readonly notes = new Map<number, FakeNote>();
  readonly requests: FakeRequest[] = [];
  readonly token: string;
  url = '';
  private nextId = 1;
  private readonly faults: { match: (r: FakeRequest) => boolean; fault: FakeFault }[] = [];
  private readonly windowHits: number[] = [];
  private server!: http.Server;
  private readonly hung = new Set<http.ServerResponse>();

  constructor(private readonly options: PipedriveFakeOptions = {}) {
    this.token = options.token ?? 'pd-test-token-0123456789';
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
    for (const res of this.hung) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** The next `times` requests matching `method path-prefix` get `fault`. */
  inject(fault: FakeFault, { method, path, times = 1 }: { method?: string; path?: string; times?: number } = {}): void {
    for (let i = 0; i < times; i++) {
      this.faults.push({
        match: (r) => (!method || r.method === method) && (!path || r.path.startsWith(path)),
        fault,
      });
    }
  }

  seedPerson(person: Partial<FakePerson> & { name: string }): FakePerson {
    const record: FakePerson = {
      id: this.nextId++,
      emails: [],
      phones: [],
      org_id: null,
      add_time: now(),
      update_time: now(),
      ...person,
    };
    this.persons.set(record.id, record);
    return record;
  }

  writes(): FakeRequest[] {
    return this.requests.filter((r) => r.method !== 'GET');
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse, raw: string): void {
    const url = new URL(req.url ?? '/', 'http://fake');
    let body: Record<string, unknown> | undefined;
    try {
      body = raw ? (JSON.parse(raw) as Record<string, unknown>) : undefined;
    } catch {
      return this.send(res, 400, { success: false, error: 'Malformed JSON', error_info: 'Request body is not JSON' });
    }
    const request: FakeRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      body,
      token: req.headers['x-api-token'] as string | undefined,
      at: Date.now(),
    };
    this.requests.push(request);

    if (request.token !== this.token) {
      return this.send(res, 401, {
        success: false,
        error: 'unauthorized access',
        errorCode: 401,
        error_info: 'Please check developers.pipedrive.com',
      });
    }
    if (this.overBudget()) return this.throttled(res, 2);

    const index = this.faults.findIndex((f) => f.match(request));
    const fault = index >= 0 ? this.faults.splice(index, 1)[0].fault : undefined;
    switch (fault?.kind) {
      case 'fail':
        return this.send(res, fault.status ?? 500, { success: false, error: 'Internal server error', error_info: '' });
      case 'throttle':
        return this.throttled(res, fault.retryAfterSeconds);
      case 'hang':
        this.hung.add(res);
        return;
      case 'reject':
        return this.send(res, 400, { success: false, error: fault.error, error_info: fault.errorInfo ?? '' });
      case 'apply-then-drop': {
        this.route(request);
        // The write is applied; the answer never arrives.
        req.socket.destroy();
        return;
      }
      case undefined: {
        const [status, answer] = this.route(request);
        return this.send(res, status, answer);
      }
    }
  }

  private overBudget(): boolean {
    const limit = this.options.rateLimit;
    if (!limit) return false;
    const cutoff = Date.now() - limit.windowMs;
    while (this.windowHits.length && this.windowHits[0] < cutoff) this.windowHits.shift();
    if (this.windowHits.length >= limit.limit) return true;
    this.windowHits.push(Date.now());
    return false;
  }

  private rateHeaders(): Record<string, string> {
    const limit = this.options.rateLimit ?? { limit: 80, windowMs: 2000 };
    const remaining = Math.max(0, limit.limit - this.windowHits.length);
    return {
      'x-ratelimit-limit': String(limit.limit),
      'x-ratelimit-remaining': String(remaining),
      'x-ratelimit-reset': String(Math.ceil(limit.windowMs / 1000)),
    };
  }

  private throttled(res: http.ServerResponse, retryAfterSeconds: number): void {
    res.writeHead(429, {
      'content-type': 'application/json',
      'retry-after': String(retryAfterSeconds),
      ...this.rateHeaders(),
      'x-ratelimit-remaining': '0',
    });
    res.end(JSON.stringify({ success: false, error: 'Request over limit', errorCode: 429, error_info: '' }));
  }

  private send(res: http.ServerResponse, status: number, answer: unknown): void {
    res.writeHead(status, { 'content-type': 'application/json', ...this.rateHeaders() });
    res.end(JSON.stringify(answer));
  }

  private route(r: FakeRequest): [number, unknown] {
    const m = (pattern: RegExp) => r.path.match(pattern);
    let match: RegExpMatchArray | null;
    if (r.method === 'GET' && r.path === '/api/v2/persons/search') return this.searchPersons(r.query);
    if (r.method === 'GET' && r.path === '/api/v2/organizations/search') return this.searchOrganizations(r.query);
    if (r.method === 'GET' && r.path === '/api/v2/persons') return this.list(this.persons, r.query);
    if (r.method === 'POST' && r.path === '/api/v2/persons') return this.createPerson(r.body ?? {});
    if (r.method === 'PATCH' && (match = m(/^\/api\/v2\/persons\/(\d+)$/)))
      return this.updatePerson(+match[1], r.body ?? {});
    if (r.method === 'POST' && r.path === '/api/v2/organizations')
      return this.writeOrganization(undefined, r.body ?? {});
    if (r.method === 'PATCH' && (match = m(/^\/api\/v2\/organizations\/(\d+)$/))) {
      return this.writeOrganization(+match[1], r.body ?? {});
    }
    if (r.method === 'GET' && r.path === '/api/v2/activities') return this.listActivities(r.query);
    if (r.method === 'POST' && r.path === '/api/v2/activities') return this.writeActivity(undefined, r.body ?? {});
    if (r.method === 'PATCH' && (match = m(/^\/api\/v2\/activities\/(\d+)$/))) {
      return this.writeActivity(+match[1], r.body ?? {});
    }
    if (r.method === 'GET' && r.path === '/api/v1/notes') return this.listNotes(r.query);
    if (r.method === 'POST' && r.path === '/api/v1/notes') return this.writeNote(undefined, r.body ?? {});
    if (r.method === 'PUT' && (match = m(/^\/api\/v1\/notes\/(\d+)$/))) return this.writeNote(+match[1], r.body ?? {});
    return [404, { success: false, error: 'Unknown method .', error_info: '' }];
  }

  private invalid(error: string): [number, unknown] {
    return [400, { success: false, error, error_info: 'Please check developers.pipedrive.com' }];
  }

  private notFound(what: string): [number, unknown] {
    return [404, { success: false, error: `${what} not found`, error_info: '' }];
  }

  private contactList(value: unknown, what: string): FakePerson['emails'] | string {
    if (value === undefined) return [];
    if (!Array.isArray(value)) return `${what} must be an array`;
    for (const item of value as { value?: unknown }[]) {
      if (typeof item?.value !== 'string' || !item.value) return `${what}[].value must be a non-empty string`;
    }
    return (value as { value: string; primary?: boolean; label?: string }[]).map((v) => ({
      value: v.value,
      primary: !!v.primary,
      label: v.label,
    }));
  }

  private createPerson(body: Record<string, unknown>): [number, unknown] {
    if (typeof body.name !== 'string' || !body.name.trim()) return this.invalid('Name must be given.');
    return this.updatePerson(undefined, body);
  }

  private updatePerson(id: number | undefined, body: Record<string, unknown>): [number, unknown] {
    const existing = id === undefined ? undefined : this.persons.get(id);
    if (id !== undefined && !existing) return this.notFound('Person');
    const emails = this.contactList(body.emails, 'emails');
    const phones = this.contactList(body.phones, 'phones');
    if (typeof emails === 'string') return this.invalid(emails);
    if (typeof phones === 'string') return this.invalid(phones);
    if (body.org_id !== undefined && body.org_id !== null && !this.organizations.has(Number(body.org_id))) {
      return this.invalid('Organization not found');
    }
    const person: FakePerson = existing ?? {
      id: this.nextId++,
      name: '',
      emails: [],
      phones: [],
      org_id: null,
      add_time: now(),
      update_time: now(),
    };
    if (typeof body.name === 'string') person.name = body.name;
    if (body.emails !== undefined) person.emails = emails;
    if (body.phones !== undefined) person.phones = phones;
    if (body.org_id !== undefined) person.org_id = body.org_id as number | null;
    person.update_time = now();
    this.persons.set(person.id, person);
    return [200, { success: true, data: person, additional_data: null }];
  }

  private searchPersons(query: Record<string, string>): [number, unknown] {
    const term = (query.term ?? '').toLowerCase();
    const exact = query.exact_match === 'true';
    if (!exact && term.length < 2) return this.invalid('Search term must be at least 2 characters');
    const fields = (query.fields ?? 'name,email,phone').split(',');
    const hit = (value: string) => (exact ? value.toLowerCase() === term : value.toLowerCase().includes(term));
    const items = [...this.persons.values()]
      .filter(
        (p) =>
          (fields.includes('name') && hit(p.name)) ||
          (fields.includes('email') && p.emails.some((e) => hit(e.value))) ||
          (fields.includes('phone') && p.phones.some((ph) => hit(ph.value))),
      )
      .map((p) => ({
        result_score: 1,
        item: {
          id: p.id,
          type: 'person',
          name: p.name,
          phones: p.phones.map((x) => x.value),
          emails: p.emails.map((x) => x.value),
          organization: p.org_id ? { id: p.org_id } : null,
        },
      }));
    return [200, { success: true, data: { items }, additional_data: { next_cursor: null } }];
  }

  private searchOrganizations(query: Record<string, string>): [number, unknown] {
    const term = (query.term ?? '').toLowerCase();
    const items = [...this.organizations.values()]
      .filter((o) =>
        query.exact_match === 'true' ? o.name.toLowerCase() === term : o.name.toLowerCase().includes(term),
      )
      .map((o) => ({ result_score: 1, item: { id: o.id, type: 'organization', name: o.name } }));
    return [200, { success: true, data: { items }, additional_data: { next_cursor: null } }];
  }

  private writeOrganization(id: number | undefined, body: Record<string, unknown>): [number, unknown] {
    const existing = id === undefined ? undefined : this.organizations.get(id);
    if (id !== undefined && !existing) return this.notFound('Organization');
    if (!existing && (typeof body.name !== 'string' || !body.name.trim())) return this.invalid('Name must be given.');
    const org: FakeOrganization = existing ?? { id: this.nextId++, name: '', add_time: now(), update_time: now() };
    if (typeof body.name === 'string') org.name = body.name;
    org.update_time = now();
    this.organizations.set(org.id, org);
    return [200, { success: true, data: org, additional_data: null }];
  }

  private writeActivity(id: number | undefined, body: Record<string, unknown>): [number, unknown] {
    const existing = id === undefined ? undefined : this.activities.get(id);
    if (id !== undefined && !existing) return this.notFound('Activity');
    if (body.due_date !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(String(body.due_date))) {
      return this.invalid('Invalid due_date, format must be YYYY-MM-DD');
    }
    if (body.due_time !== undefined && !/^\d{2}:\d{2}$/.test(String(body.due_time))) {
      return this.invalid('Invalid due_time, format must be HH:MM');
    }
    if (body.duration !== undefined && !/^\d{2,}:\d{2}$/.test(String(body.duration))) {
      return this.invalid('Invalid duration, format must be HH:MM');
    }
    if (
      body.type !== undefined &&
      !['call', 'meeting', 'task', 'deadline', 'email', 'lunch'].includes(String(body.type))
    ) {
      return this.invalid(`Activity type "${String(body.type)}" does not exist`);
    }
    const participants = (body.participants as { person_id: number; primary?: boolean }[] | undefined) ?? undefined;
    for (const p of participants ?? []) {
      if (!this.persons.has(p.person_id)) return this.invalid(`Person ${p.person_id} not found`);
    }
    if (body.person_id !== undefined && body.person_id !== null && !this.persons.has(Number(body.person_id))) {
      return this.invalid(`Person ${String(body.person_id)} not found`);
    }
    const activity: FakeActivity = existing ?? {
      id: this.nextId++,
      subject: '',
      type: 'call',
      due_date: null,
      due_time: null,
      duration: null,
      done: false,
      note: null,
      person_id: null,
      participants: [],
      add_time: now(),
      update_time: now(),
    };
    for (const key of ['subject', 'type', 'due_date', 'due_time', 'duration', 'done', 'note'] as const) {
      if (body[key] !== undefined) (activity as unknown as Record<string, unknown>)[key] = body[key];
    }
    if (participants) {
      activity.participants = participants.map((p) => ({ person_id: p.person_id, primary: !!p.primary }));
      activity.person_id =
        activity.participants.find((p) => p.primary)?.person_id ?? activity.participants[0]?.person_id ?? null;
    }
    if (body.person_id !== undefined) activity.person_id = body.person_id as number | null;
    activity.update_time = now();
    this.activities.set(activity.id, activity);
    return [200, { success: true, data: activity, additional_data: null }];
  }

  private listActivities(query: Record<string, string>): [number, unknown] {
    let items = [...this.activities.values()];
    if (query.person_id) items = items.filter((a) => a.person_id === Number(query.person_id));
    return this.list(new Map(items.map((a) => [a.id, a])), query);
  }

  /** v2 lists: `updated_since` (RFC 3339), `sort_by`, `sort_direction`, `limit`, cursor pagination. */
  private list<T extends { id: number; update_time: string; add_time: string }>(
    records: Map<number, T>,
    query: Record<string, string>,
  ): [number, unknown] {
    let items = [...records.values()];
    if (query.updated_since) {
      const since = Date.parse(query.updated_since);
      if (Number.isNaN(since)) return this.invalid('updated_since must be RFC 3339');
      items = items.filter((i) => timeOf(i.update_time) >= since);
    }
    const key = (query.sort_by ?? 'id') as 'id' | 'update_time' | 'add_time';
    items.sort((a, b) => (a[key] < b[key] ? -1 : a[key] > b[key] ? 1 : a.id - b.id));
    if (query.sort_direction === 'desc') items.reverse();
    const start = query.cursor ? Number(Buffer.from(query.cursor, 'base64').toString()) : 0;
    const limit = Math.min(Number(query.limit ?? 100), 500);
    const page = items.slice(start, start + limit);
    const next = start + limit < items.length ? Buffer.from(String(start + limit)).toString('base64') : null;
    return [200, { success: true, data: page, additional_data: { next_cursor: next } }];
  }

  private writeNote(id: number | undefined, body: Record<string, unknown>): [number, unknown] {
    const existing = id === undefined ? undefined : this.notes.get(id);
    if (id !== undefined && !existing) return this.notFound('Note');
    if (!existing && (typeof body.content !== 'string' || !body.content))
      return this.invalid('Note content is required');
    const personId = body.person_id as number | undefined;
    if (
      !existing &&
      personId === undefined &&
      body.org_id === undefined &&
      body.deal_id === undefined &&
      body.lead_id === undefined
    ) {
      return this.invalid('Note must be attached to a deal, person, organization, lead or project');
    }
    if (personId !== undefined && !this.persons.has(Number(personId))) return this.invalid('Person not found');
    const note: FakeNote = existing ?? {
      id: this.nextId++,
      content: '',
      person_id: null,
      org_id: null,
      deal_id: null,
      add_time: nowV1(),
      update_time: nowV1(),
    };
    if (typeof body.content === 'string') note.content = body.content;
    if (personId !== undefined) note.person_id = Number(personId);
    note.update_time = nowV1();
    this.notes.set(note.id, note);
    return [200, { success: true, data: note, additional_data: null }];
  }

  /** v1 list: `start`/`limit` pagination in `additional_data.pagination`. */
  private listNotes(query: Record<string, string>): [number, unknown] {
    let items = [...this.notes.values()];
    if (query.person_id) items = items.filter((n) => n.person_id === Number(query.person_id));
    if (query.updated_since) {
      const since = Date.parse(query.updated_since);
      items = items.filter((n) => timeOf(n.update_time) >= since);
    }
    items.sort((a, b) => (a.update_time < b.update_time ? 1 : a.update_time > b.update_time ? -1 : b.id - a.id));
    const start = Number(query.start ?? 0);
    const limit = Math.min(Number(query.limit ?? 100), 500);
    const page = items.slice(start, start + limit);
    const more = start + limit < items.length;
    return [
      200,
      {
        success: true,
        data: page.length ? page : null,
        additional_data: {
          pagination: { start, limit, more_items_in_collection: more, ...(more ? { next_start: start + limit } : {}) },
        },
      },
    ];
  }
}

/** For the benchmark and tests: a started fake Pipedrive. */
export async function startPipedriveFake(options: PipedriveFakeOptions = {}): Promise<PipedriveFake> {
  return new PipedriveFake(options).start();
}
