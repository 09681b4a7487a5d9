// class-transformer reads decorator metadata in the canonical entities; a worker thread starts without the polyfill.
import 'reflect-metadata';
import jsonata from 'jsonata';
import { scanJson } from '../common/json-depth';
import { isMainThread, threadId, workerData } from 'node:worker_threads';
import { validateCloudEvent } from '../canonical/canonical-validator';
import type { CloudEvent } from '../canonical/cloud-event';
import { stableId } from '../common/ids';
import { MappingErrorCode, MappingException } from './mapping.exception';

/*
 * The body of one mapping task: parse the raw vendor body, evaluate the JSONata expression, wrap each item in the
 * CloudEvents envelope and validate it. It runs in a worker thread of MappingPool (piscina loads this file), so a
 * heavy payload or a runaway expression never holds the HTTP event loop; it can also run in-process (benchmarks).
 * Every failure comes back as data ({ok: false, code, reason}): an Error crossing the thread boundary loses its class.
 */

/**
 * Every evaluation is bounded. jsonata's own guards (timeoutMs, stackDepth) are cooperative: a regular expression
 * that backtracks for minutes never yields to them, so MappingPool also stops the thread at hardTimeoutMs.
 * maxInputBytes sits above ingest's 1 MiB body limit: anything ingest accepted is mapped; it bounds bodies that
 * reach the mapper some other way (re-normalise after a limit change, preview).
 */
export const MAPPING_LIMITS = {
  timeoutMs: 1000,
  stackDepth: 500,
  hardTimeoutMs: 2000,
  maxInputBytes: 2 * 1024 * 1024,
  maxInputDepth: 64,
  maxEvents: 100,
  maxOutputBytes: 2 * 1024 * 1024,
  /** Values in one mapping's output. A vendor sending 60 000 custom fields gets a clear failure, not a slow one. */
  maxOutputFields: 10_000,
};

export interface MappingContext {
  connector: string;
  vendorEventType: string;
  vendorEventId?: string;
  inboundEventId: string;
  /** The revision being written (re-normalise with a changed output); 0 or absent for the first. */
  revision?: number;
  sourceId: string;
  receivedAt: Date;
  occurredAt?: Date;
  test: boolean;
  /** Issue 12: what the enrich step left for this event; absent when the event is not enriched. */
  enrichment?: MappingEnrichment;
}

/**
 * The stored enrichment of an event. `document` is JSON text, parsed in the mapping thread (off the event loop) and
 * bound as `$enrichment`; a failed enrichment has none, and its canonical events carry the failure instead.
 */
export interface MappingEnrichment {
  status: 'enriched' | 'failed';
  document?: string;
  error?: string;
}

/** The expression's text travels with each task; `key` (a hash of the text) names it in each thread's cache. */
export interface MappingExpression {
  key: string;
  /** `<connector>/<event type>` or an override's name: used in failure reasons. */
  name: string;
  source: string;
}

export interface MappingTask {
  expression: MappingExpression;
  /** The raw vendor body, UTF-8 JSON. */
  body: Uint8Array;
  context: MappingContext;
  /**
   * Set by MappingPool: the thread stamps the task's start in the pool's shared memory (`TaskStamps`, under this
   * slot), from which the hard deadline counts.
   */
  start?: { slot: number; taskId: number };
}

export type MappingOutcome =
  | { ok: true; events: CloudEvent[] }
  | { ok: false; code: MappingErrorCode; reason: string; details?: Record<string, unknown> };

/**
 * Where each thread records that a task started: one slot per task handed to piscina, in memory shared by the pool
 * and its threads (piscina's `workerData`), so a start costs no message. `at` and `threads` (the thread's
 * `threadId`) are written first, then `ids` with Atomics, so whoever reads the task's id there reads its start time
 * and thread too. An id is stored as an Int32 (`| 0`).
 */
export interface TaskStamps {
  ids: Int32Array;
  at: Float64Array;
  threads: Int32Array;
}

export function taskStamps(buffer: SharedArrayBuffer, slots: number): TaskStamps {
  return {
    at: new Float64Array(buffer, 0, slots),
    ids: new Int32Array(buffer, 8 * slots, slots),
    threads: new Int32Array(buffer, 12 * slots, slots),
  };
}

export const taskStampBytes = (slots: number) => 16 * slots;

/** In a pool's thread, its stamps; undefined in-process (benchmarks) or under a pool that gave none. */
const stamps = (workerData as { stamps?: { buffer: SharedArrayBuffer; slots: number } } | undefined)?.stamps;
const threadStamps = stamps && taskStamps(stamps.buffer, stamps.slots);

/** What a mapping returns: one object or an array. The hub fills in the CloudEvents envelope around it. */
interface MappedEvent {
  type: string;
  subject: string;
  time?: string;
  data: Record<string, unknown>;
}

type Compiled = ReturnType<typeof jsonata>;

/** Per thread; bounded because override texts (later: from Postgres) can change without a restart. */
const compiled = new Map<string, Compiled | MappingException>();
const MAX_COMPILED = 256;

/**
 * Issue 11: what a pool thread evaluates once when it starts, before its first task. jsonata's higher-order
 * functions ($sift, $map, …) call each lambda through a closure it makes anew at every evaluation. A thread that maps
 * one event type after another, one task at a time, lets V8 optimise such a call site for one closure, then throws
 * the code away at the next evaluation and compiles it again, without end: `--trace-deopt` showed jsonata's `sift`
 * deoptimised ("wrong call target") about every 40 evaluations of `askelephant/v1.engagement.updated`, and the
 * recompiles cost 100–200 µs of CPU per event on V8's helper threads. Each call site that has seen several lambdas
 * before it is optimised stays generic, as under mixed traffic, and the loop never starts (bench/README.md).
 */
export const WARM_UP_EXPRESSION = `(
  $o := {"a": 1, "b": "x", "c": null, "d": [1, 2, 3]};
  [
    $sift($o, function($v) { $v != null }),
    $sift($o, function($v, $k) { $k != "a" }),
    $map([1, 2, 3], function($v) { $v + 1 }),
    $map([1, 2, 3], function($v, $i) { $i }),
    $filter([1, 2, 3], function($v) { $v > 1 }),
    $filter([1, 2, 3], function($v, $i) { $i = 0 }),
    $each($o, function($v, $k) { $k }),
    $reduce([1, 2, 3], function($a, $b) { $a + $b }),
    $single([1, 2, 3], function($v) { $v = 2 }),
    $sort([3, 1, 2], function($a, $b) { $a > $b })
  ]
)`;

/** Evaluations of WARM_UP_EXPRESSION at a thread's start. */
const WARM_UP_ROUNDS = 20;

export async function warmUp(rounds = WARM_UP_ROUNDS): Promise<unknown> {
  const expression = jsonata(WARM_UP_EXPRESSION);
  let result: unknown;
  for (let round = 0; round < rounds; round++) result = await expression.evaluate({});
  return result;
}

/**
 * The end of the last task this thread took, which the next one waits for: at first the warm-up (a failed warm-up
 * only costs speed; nothing to wait for in-process). A pool thread holds more than one task at once
 * (MappingPool's TASKS_PER_THREAD), and jsonata evaluates with promises, so without this chain two tasks would
 * interleave: each would run slower, and a task's start stamp, from which its hard deadline counts, would not mean
 * that the tasks before it had finished.
 */
let previous: Promise<unknown> = isMainThread ? Promise.resolve() : warmUp().catch(() => undefined);

export default function runMappingTask(task: MappingTask): Promise<MappingOutcome> {
  const outcome = previous.then(() => runTask(task));
  previous = outcome.catch(() => undefined);
  return outcome;
}

async function runTask(task: MappingTask): Promise<MappingOutcome> {
  if (task.start && threadStamps) {
    threadStamps.at[task.start.slot] = Date.now();
    threadStamps.threads[task.start.slot] = threadId;
    Atomics.store(threadStamps.ids, task.start.slot, task.start.taskId | 0);
  }
  try {
    return { ok: true, events: await mapBody(task) };
  } catch (err) {
    const failure = asMappingException(task.expression.name, err);
    return { ok: false, code: failure.code, reason: failure.message, details: failure.details };
  }
}

async function mapBody({ expression, body, context }: MappingTask): Promise<CloudEvent[]> {
  const name = expression.name;
  if (body.byteLength > MAPPING_LIMITS.maxInputBytes) throw inputTooLarge(name, body.byteLength);
  const text = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
  // Checked before parsing: a body nested 100 000 deep parses, then overflows every recursive walk.
  if (scanJson(text, MAPPING_LIMITS.maxInputDepth).depth > MAPPING_LIMITS.maxInputDepth) {
    throw new MappingException(
      MappingErrorCode.Bounds,
      `Body for mapping ${name} nests deeper than ${MAPPING_LIMITS.maxInputDepth} levels`,
    );
  }
  let input: unknown;
  try {
    input = JSON.parse(text);
  } catch (err) {
    throw new MappingException(
      MappingErrorCode.Input,
      `Body for mapping ${name} is not JSON: ${(err as Error).message}`,
    );
  }

  const enrichment = parseEnrichment(name, context.enrichment);
  const compiledExpression = compile(expression);
  let result: unknown;
  try {
    result = await compiledExpression.evaluate(input, {
      connector: context.connector,
      sourceId: context.sourceId,
      receivedAt: context.receivedAt.toISOString(),
      occurredAt: context.occurredAt?.toISOString(),
      eventId: context.vendorEventId,
      enrichment,
    });
  } catch (err) {
    throw evaluationError(name, err);
  }

  // Strip jsonata's sequence wrappers and undefined fields: what we store is plain JSON.
  const json = result === undefined ? undefined : JSON.stringify(result);
  if (json !== undefined && Buffer.byteLength(json) > MAPPING_LIMITS.maxOutputBytes) {
    throw new MappingException(
      MappingErrorCode.Bounds,
      `Mapping ${name} produced ${Buffer.byteLength(json)} bytes of output, above the ${MAPPING_LIMITS.maxOutputBytes}-byte limit`,
    );
  }
  let fields = 0;
  const plain =
    json === undefined ? undefined : (JSON.parse(json, (_key, value: unknown) => (fields++, value)) as unknown);
  if (fields > MAPPING_LIMITS.maxOutputFields) {
    throw new MappingException(
      MappingErrorCode.Bounds,
      `Mapping ${name} produced ${fields} fields, above the limit of ${MAPPING_LIMITS.maxOutputFields}`,
    );
  }
  const items = (Array.isArray(plain) ? plain : plain === undefined ? [] : [plain]) as MappedEvent[];
  if (!items.length) {
    throw new MappingException(MappingErrorCode.Empty, `Mapping ${name} produced no canonical event`);
  }
  if (items.length > MAPPING_LIMITS.maxEvents) {
    throw new MappingException(
      MappingErrorCode.Bounds,
      `Mapping ${name} produced ${items.length} events, above the limit of ${MAPPING_LIMITS.maxEvents}`,
    );
  }
  return items.map((item, index) => toCloudEvent(name, item, index, context));
}

/** `$enrichment`: the stored document, held to the same bounds as a body. Undefined when there is none. */
function parseEnrichment(name: string, enrichment: MappingEnrichment | undefined): unknown {
  if (enrichment?.status !== 'enriched' || enrichment.document === undefined) return undefined;
  const bytes = Buffer.byteLength(enrichment.document);
  if (bytes > MAPPING_LIMITS.maxInputBytes) {
    throw new MappingException(
      MappingErrorCode.Bounds,
      `Enrichment for mapping ${name} is ${bytes} bytes, above the ${MAPPING_LIMITS.maxInputBytes}-byte limit`,
    );
  }
  if (scanJson(enrichment.document, MAPPING_LIMITS.maxInputDepth).depth > MAPPING_LIMITS.maxInputDepth) {
    throw new MappingException(
      MappingErrorCode.Bounds,
      `Enrichment for mapping ${name} nests deeper than ${MAPPING_LIMITS.maxInputDepth} levels`,
    );
  }
  try {
    return JSON.parse(enrichment.document) as unknown;
  } catch (err) {
    throw new MappingException(
      MappingErrorCode.Input,
      `Enrichment for mapping ${name} is not JSON: ${(err as Error).message}`,
    );
  }
}

function toCloudEvent(name: string, item: MappedEvent, index: number, context: MappingContext): CloudEvent {
  const time = item?.time ?? context.occurredAt?.toISOString() ?? context.receivedAt.toISOString();
  const parsedTime = new Date(time);
  const event: CloudEvent = {
    specversion: '1.0',
    // Revision 0 keeps the original derivation, so ids written before revisions existed stay the same.
    id: context.revision
      ? stableId('evt', context.inboundEventId, context.revision, index)
      : stableId('evt', context.inboundEventId, index),
    type: item?.type,
    source: `switchboard/sources/${context.sourceId}`,
    subject: item?.subject,
    time: Number.isNaN(parsedTime.getTime()) ? time : parsedTime.toISOString(),
    datacontenttype: 'application/json',
    connector: context.connector,
    vendoreventtype: context.vendorEventType,
    ...(context.vendorEventId ? { vendoreventid: context.vendorEventId } : {}),
    test: context.test,
    // Issue 12: extension attributes, only on events whose source enriches: the outcome, and why it failed.
    ...(context.enrichment ? { enrichment: context.enrichment.status } : {}),
    ...(context.enrichment?.status === 'failed' && context.enrichment.error
      ? { enrichmenterror: context.enrichment.error }
      : {}),
    data: item?.data,
  };
  const problems = validateCloudEvent(event);
  if (problems.length) {
    const invalid = new MappingException(
      MappingErrorCode.Invalid,
      `Mapping ${name} output #${index} is not a valid canonical event: ${problems.join('; ')}`,
    );
    // Each problem reads `<path>: <message>` (canonical-validator); ops get the paths apart.
    invalid.details = {
      output: index,
      problems: problems.map((problem) => {
        const at = problem.indexOf(': ');
        return at < 0 ? { path: '', message: problem } : { path: problem.slice(0, at), message: problem.slice(at + 2) };
      }),
    };
    throw invalid;
  }
  return event;
}

/** Compiled once per thread and expression text; a text that does not compile fails the same way every time. */
function compile(expression: MappingExpression): Compiled {
  let entry = compiled.get(expression.key);
  if (!entry) {
    try {
      entry = jsonata(expression.source, { timeout: MAPPING_LIMITS.timeoutMs, stack: MAPPING_LIMITS.stackDepth });
    } catch (err) {
      entry = new MappingException(
        MappingErrorCode.Compile,
        `Mapping ${expression.name} does not compile: ${jsonataMessage(err)}`,
      );
    }
    if (compiled.size >= MAX_COMPILED) compiled.delete(compiled.keys().next().value as string);
    compiled.set(expression.key, entry);
  }
  if (entry instanceof MappingException) throw entry;
  return entry;
}

export function inputTooLarge(name: string, bytes: number): MappingException {
  return new MappingException(
    MappingErrorCode.Bounds,
    `Body for mapping ${name} is ${bytes} bytes, above the ${MAPPING_LIMITS.maxInputBytes}-byte limit`,
  );
}

function evaluationError(name: string, err: unknown): MappingException {
  const code = (err as { code?: string })?.code;
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

/** Anything else thrown on the way (a stack overflow while serialising, a validator bug) still fails with a reason. */
function asMappingException(name: string, err: unknown): MappingException {
  if (err instanceof MappingException) return err;
  if (err instanceof RangeError && /call stack/i.test(err.message)) {
    return new MappingException(MappingErrorCode.Bounds, `Mapping ${name} exhausted the stack: ${err.message}`);
  }
  return new MappingException(MappingErrorCode.Evaluate, `Mapping ${name} failed: ${(err as Error)?.message ?? err}`);
}

function jsonataMessage(err: unknown): string {
  const e = err as { code?: string; message?: string; position?: number };
  return [e?.message ?? String(err), e?.code ? `(${e.code}${e.position !== undefined ? ` at ${e.position}` : ''})` : '']
    .filter(Boolean)
    .join(' ');
}
