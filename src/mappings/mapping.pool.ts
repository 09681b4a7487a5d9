import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Piscina } from 'piscina';
import type { CloudEvent } from '../canonical/cloud-event';
import { MappingErrorCode, MappingException } from './mapping.exception';
import {
  inputTooLarge,
  MAPPING_LIMITS,
  BatchOutcomeMessage,
  MappingBatch,
  MappingContext,
  MappingExpression,
  MappingOutcome,
  MappingTask,
} from './mapping.worker';

export interface MappingPoolOptions {
  /** Worker threads; default 2, at least 1. They start with the first task and stay while the pool lives. */
  threads?: number;
  /** Wall-clock limit of one task once it runs; the thread is terminated and replaced when it is hit. */
  hardTimeoutMs?: number;
  /**
   * Old-generation heap of each thread (V8's default when unset). Off by default: Node enforces it best-effort
   * (nodejs/node#47224) — many small allocations end the thread with ERR_WORKER_OUT_OF_MEMORY, but one array grown
   * past the limit aborts the whole process, and at 64 MB a 9-million-item jsonata range did exactly that here.
   * The time limits already bound how much a mapping can allocate.
   */
  heapMb?: number;
}

/** A task waiting for a thread, or in a batch that a thread runs. */
interface PendingTask {
  task: MappingTask;
  urgent: boolean;
  /** Its outcome came back (posted before its batch ended, or with it), or its failure. */
  settled: boolean;
  settle: (outcome: MappingOutcome | Error) => void;
}

/** MappingPool.take: urgent tasks taken in a row while others wait, before one of the others goes. */
export const URGENT_IN_A_ROW = 4;
/**
 * At most this many tasks go to a thread at once (MappingPool.takeBatch)… An urgent task that arrives while every
 * thread runs a batch waits for the end of one, so the bound is small: 4 keeps most of the saving (bench/README.md).
 */
export const MAX_BATCH_TASKS = 4;
/** …and at most this many bytes of bodies, unless one task alone is larger. */
const MAX_BATCH_BYTES = 1024 * 1024;

/**
 * Thrown (not a MappingException) when the pool cannot run a task — it is closing, or a thread died before it
 * started the task: the event is not at fault and must be retried later.
 */
export class MappingUnavailableError extends Error {
  override name = 'MappingUnavailableError';
}

export class MappingPoolClosedError extends MappingUnavailableError {
  constructor() {
    super('mapping pool is closed');
  }
}

/**
 * Runs mapping tasks (mapping.worker.ts) on a few worker threads with piscina.
 *
 * Tasks wait here, not in piscina, urgent ones first (but see take): a task with an abort signal, as each batch has
 * for its hard deadline, goes to piscina's own first-come-first-served queue. A thread that comes free gets the
 * tasks waiting, as one batch (issue 11): up to MAX_BATCH_TASKS, and no more than its share when several threads are
 * free, so an idle pool still sends each task alone at once, and a busy one hands over several events per trip
 * between threads. While an urgent task waits or runs, a batch holds at most one task that is not urgent, so
 * ingest's next mapping never waits for a batch of the backlog's to end. Each outcome but the last is posted back as soon as it is ready (BatchOutcomeMessage), so no
 * caller waits for the rest of its batch.
 *
 * The hard deadline: the thread records in shared memory which task of its batch runs and since when. A watchdog
 * here reads it and aborts a task that has run for hardTimeoutMs: piscina rejects the batch with an AbortError,
 * terminates its thread and starts a replacement (piscina 5 `runTask` → `taskInfo.onAbort` → `_removeWorker` +
 * `_ensureMinimumWorkers`). The deadline counts from the task's start, not from when it was queued, so a burst
 * waiting for a free thread (or a thread still booting) is not failed for it. Only the task that was running fails;
 * the others of its batch go back to the front of the queue (a mapping is a pure function: running one again
 * gives the same result).
 */
export class MappingPool {
  readonly threads: number;
  readonly hardTimeoutMs: number;
  readonly heapMb?: number;
  private piscina?: Piscina<MappingBatch, MappingOutcome[]>;
  private closed = false;
  /** Urgent tasks waiting or running. */
  private urgentTasks = 0;
  /** Batches handed to piscina and not finished: at most one per thread, so piscina never queues any. */
  private busyThreads = 0;
  /** Tasks waiting for a thread, each kind in order (issue 11: ingest's mappings, made before the ack, go first). */
  private readonly waiting = { urgent: [] as PendingTask[], other: [] as PendingTask[] };
  /** Urgent tasks taken in a row while others waited: after URGENT_IN_A_ROW, one of the others goes. */
  private urgentInARow = 0;
  /** The batches handed over, by id, for the outcomes their threads post before they end. */
  private readonly running = new Map<number, PendingTask[]>();
  private nextBatchId = 1;
  /** Tasks handed over, counting one that went back to the queue and again. */
  private tasksHandedOver = 0;

  constructor(options: MappingPoolOptions = {}) {
    this.threads = Math.max(1, Math.floor(options.threads ?? 2));
    this.hardTimeoutMs = options.hardTimeoutMs ?? MAPPING_LIMITS.hardTimeoutMs;
    this.heapMb = options.heapMb;
  }

  /**
   * Maps one raw body; resolves with validated CloudEvents or rejects with a MappingException naming the reason.
   * `urgent`: it goes before the waiting tasks that are not (see take).
   */
  async run(
    expression: MappingExpression,
    raw: Buffer | Uint8Array | string,
    context: MappingContext,
    urgent = false,
  ): Promise<CloudEvent[]> {
    if (this.closed) throw new MappingPoolClosedError();
    const size = typeof raw === 'string' ? Buffer.byteLength(raw) : raw.byteLength;
    if (size > MAPPING_LIMITS.maxInputBytes) throw inputTooLarge(expression.name, size);
    // A private copy: the caller's Buffer may be a view on a shared pool slab, and a task that goes back to the
    // queue (its thread was stopped for another task) is sent again.
    const body = typeof raw === 'string' ? new TextEncoder().encode(raw) : new Uint8Array(raw);

    if (urgent) this.urgentTasks++;
    let outcome: MappingOutcome | Error;
    try {
      outcome = await new Promise<MappingOutcome | Error>((settle) => {
        this.waiting[urgent ? 'urgent' : 'other'].push({
          task: { expression, body, context },
          urgent,
          settled: false,
          settle,
        });
        this.pump();
      });
    } finally {
      if (urgent) this.urgentTasks--;
    }
    if (outcome instanceof Error) throw outcome;
    if (!outcome.ok) {
      const failure = new MappingException(outcome.code, outcome.reason);
      failure.details = outcome.details;
      throw failure;
    }
    return outcome.events;
  }

  /**
   * Whether an urgent task submitted now waits behind fewer than `perThread` urgent tasks per thread, counting those
   * running (issue 11: ingest maps an event before it stores it only then, so a backed-up pool never holds up an ack
   * for long). Other tasks delay it little: those already running, and one for every URGENT_IN_A_ROW urgent tasks
   * taken while others wait.
   */
  acceptsUrgent(perThread: number): boolean {
    return !this.closed && this.urgentTasks < this.threads * perThread;
  }

  /** Batches and tasks handed to the threads so far (a busy pool hands over fewer batches than tasks). */
  handedOver(): { batches: number; tasks: number } {
    return { batches: this.nextBatchId - 1, tasks: this.tasksHandedOver };
  }

  /** Terminates every thread; tasks still running or waiting fail with MappingPoolClosedError. */
  async close(): Promise<void> {
    this.closed = true;
    for (const pending of [...this.waiting.urgent.splice(0), ...this.waiting.other.splice(0)]) {
      settle(pending, new MappingPoolClosedError());
    }
    const piscina = this.piscina;
    this.piscina = undefined;
    await piscina?.destroy();
  }

  /** Hands the waiting tasks to the threads that are free, one batch per thread. */
  private pump(): void {
    while (!this.closed && this.busyThreads < this.threads && this.waitingCount() > 0) {
      const batch = this.takeBatch();
      this.busyThreads++;
      void this.runBatch(batch).finally(() => {
        this.busyThreads--;
        this.pump();
      });
    }
  }

  private waitingCount(): number {
    return this.waiting.urgent.length + this.waiting.other.length;
  }

  /**
   * The next batch, in the order `take` gives: a free thread's share of the waiting tasks (all of them when one
   * thread is free), at most MAX_BATCH_TASKS and MAX_BATCH_BYTES of bodies (one larger task goes alone).
   */
  private takeBatch(): PendingTask[] {
    const free = this.threads - this.busyThreads;
    const size = Math.min(MAX_BATCH_TASKS, Math.ceil(this.waitingCount() / free));
    // While urgent tasks are about, one that arrives must not wait for a batch of the backlog's to end.
    const maxOthers = this.urgentTasks > 0 ? 1 : size;
    const batch: PendingTask[] = [];
    let bytes = 0;
    let others = 0;
    while (batch.length < size) {
      const kind = this.nextKind();
      if (!kind || (kind === 'other' && others >= maxOthers)) break;
      const next = this.waiting[kind][0];
      if (batch.length > 0 && bytes + next.task.body.byteLength > MAX_BATCH_BYTES) break;
      batch.push(this.take(kind));
      bytes += next.task.body.byteLength;
      if (kind === 'other') others++;
    }
    return batch;
  }

  /**
   * The kind of task to take next: urgent ones first, except that a task that is not urgent goes after every
   * URGENT_IN_A_ROW urgent ones, so a steady stream of urgent tasks never starves the rest (the backlog's
   * normalisation).
   */
  private nextKind(): keyof MappingPool['waiting'] | undefined {
    const { urgent, other } = this.waiting;
    if (other.length > 0 && (urgent.length === 0 || this.urgentInARow >= URGENT_IN_A_ROW)) return 'other';
    return urgent.length > 0 ? 'urgent' : undefined;
  }

  private take(kind: keyof MappingPool['waiting']): PendingTask {
    const pending = this.waiting[kind].shift()!;
    this.urgentInARow = kind === 'urgent' && this.waiting.other.length > 0 ? this.urgentInARow + 1 : 0;
    return pending;
  }

  private async runBatch(batch: PendingTask[]): Promise<void> {
    const id = this.nextBatchId++;
    this.tasksHandedOver += batch.length;
    const progress = new Int32Array(new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT));
    progress[0] = -1;
    const base = Date.now();
    const abort = new AbortController();
    const watchdog = this.watch(progress, base, abort);
    this.running.set(id, batch);
    let outcomes: MappingOutcome[];
    try {
      outcomes = await this.pool().run(
        { id, tasks: batch.map((pending) => pending.task), progress, base },
        { signal: abort.signal },
      );
    } catch (err) {
      this.failBatch(batch, Atomics.load(progress, 0), abort.signal.aborted, err);
      return;
    } finally {
      watchdog.stop();
      this.running.delete(id);
    }
    batch.forEach((pending, index) => settle(pending, outcomes[index]));
  }

  /** A task's outcome, posted before the end of its batch. */
  private posted(message: Partial<BatchOutcomeMessage>): void {
    const pending = message?.mappingBatch === undefined ? undefined : this.running.get(message.mappingBatch);
    if (pending && message.index !== undefined && message.outcome) settle(pending[message.index], message.outcome);
  }

  /** Aborts the batch once the task it runs has run for hardTimeoutMs (see the class comment). */
  private watch(progress: Int32Array, base: number, abort: AbortController): { stop: () => void } {
    let timer: NodeJS.Timeout;
    const check = () => {
      const index = Atomics.load(progress, 0);
      const ranMs = index < 0 ? 0 : Date.now() - base - Atomics.load(progress, 1);
      if (index >= 0 && ranMs >= this.hardTimeoutMs) abort.abort();
      else timer = setTimeout(check, this.hardTimeoutMs - ranMs);
    };
    timer = setTimeout(check, this.hardTimeoutMs);
    return { stop: () => clearTimeout(timer) };
  }

  /**
   * A batch whose thread was stopped or died: the task it was running fails (or, when none had started, every task
   * gets MappingUnavailableError); the others go back to the front of the queue, in their order. A thread that died
   * right after the running task's outcome was posted blames no task: the rest then get MappingUnavailableError too,
   * so a batch never goes round for ever.
   */
  private failBatch(batch: PendingTask[], running: number, aborted: boolean, err: unknown): void {
    if (this.closed || running < 0 || batch[running].settled) {
      // Before any task started, or between two: no task is at fault (taskError says so for running < 0).
      for (const pending of batch) settle(pending, this.taskError(pending.task.expression.name, -1, false, err));
      return;
    }
    settle(batch[running], this.taskError(batch[running].task.expression.name, running, aborted, err));
    const rest = batch.filter((pending) => !pending.settled);
    for (const pending of rest.reverse()) this.waiting[pending.urgent ? 'urgent' : 'other'].unshift(pending);
  }

  private pool(): Piscina<MappingBatch, MappingOutcome[]> {
    if (!this.piscina) {
      this.piscina = new Piscina<MappingBatch, MappingOutcome[]>({
        filename: workerFilename(),
        minThreads: this.threads,
        maxThreads: this.threads,
        // At most one batch per thread is handed over (pump); piscina holds them only while its threads boot.
        maxQueue: Infinity,
        ...(this.heapMb ? { resourceLimits: { maxOldGenerationSizeMb: this.heapMb } } : {}),
      });
      this.piscina.on('message', (message: Partial<BatchOutcomeMessage>) => this.posted(message));
      // A thread that dies between tasks is replaced by piscina; its error must not crash the process.
      this.piscina.on('error', () => undefined);
    }
    return this.piscina;
  }

  /** Why the task that was running (`running`: its index in the batch, -1 when none had started) did not finish. */
  private taskError(name: string, running: number, aborted: boolean, err: unknown): Error {
    if (aborted) {
      return new MappingException(
        MappingErrorCode.Bounds,
        `Mapping ${name} ran longer than the ${this.hardTimeoutMs} ms hard limit; its worker thread was stopped`,
      );
    }
    if (this.closed) return new MappingPoolClosedError();
    // A thread that never started the task (its bootstrap failed) says nothing about the event: retry it later.
    if (running < 0) {
      return new MappingUnavailableError(`mapping worker thread failed before running ${name}: ${messageOf(err)}`);
    }
    if ((err as { code?: string })?.code === 'ERR_WORKER_OUT_OF_MEMORY') {
      return new MappingException(
        MappingErrorCode.Bounds,
        `Mapping ${name} ran out of worker heap${this.heapMb ? ` (${this.heapMb} MB)` : ''}; its worker thread was stopped`,
      );
    }
    return new MappingException(
      MappingErrorCode.Evaluate,
      `Mapping ${name} crashed its worker thread: ${messageOf(err)}`,
    );
  }
}

/** Gives a task its outcome once: a batch's result repeats the outcomes its thread posted before it ended. */
function settle(pending: PendingTask, outcome: MappingOutcome | Error): void {
  if (pending.settled) return;
  pending.settled = true;
  pending.settle(outcome);
}

/**
 * Compiled (dist/), the worker is the sibling .js file. Under ts-node or Jest this module is .ts and a new thread
 * has none of the parent's require hooks, so a small .js bootstrap registers ts-node in the thread first.
 */
function workerFilename(): string {
  const compiled = join(__dirname, 'mapping.worker.js');
  if (!__filename.endsWith('.ts') && existsSync(compiled)) return compiled;
  return join(__dirname, 'mapping.worker.ts-node.js');
}

function messageOf(err: unknown): string {
  return (err as Error)?.message ?? String(err);
}
