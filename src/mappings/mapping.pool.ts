import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Piscina } from 'piscina';
import type { CloudEvent } from '../canonical/cloud-event';
import { MappingErrorCode, MappingException } from './mapping.exception';
import {
  inputTooLarge,
  MAPPING_LIMITS,
  MappingContext,
  MappingExpression,
  MappingOutcome,
  MappingTask,
  taskStampBytes,
  taskStamps,
  TaskStamps,
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
  /** Tasks each thread holds at once: the one it runs and those queued behind it (default TASKS_PER_THREAD). */
  tasksPerThread?: number;
}

interface RunningTask {
  abort: AbortController;
  /** Its stamp slot while piscina holds it (TaskStamps). */
  slot?: number;
  /** Its thread stamped its start: read before the slot is released. */
  started?: boolean;
  /** Set by the watchdog once it sees that the task started. */
  deadline?: NodeJS.Timeout;
}

/**
 * How often the watchdog looks for started tasks while any are with piscina. A task still running when it looks
 * gets a timer for the rest of its hard deadline, counted from its start; a task that ends sooner (nearly every one)
 * costs no timer at all.
 */
const WATCH_MS = 100;

/** MappingPool.nextTask: urgent tasks started in a row while others wait, before one of the others goes. */
export const URGENT_IN_A_ROW = 4;

/**
 * Issue 11: tasks handed to each thread at once, the one it runs and the next. A thread that holds only the task it
 * runs sleeps after each one until the main thread, busy with ingest and Postgres, takes the result and hands it the
 * next: in a drain on 2 cores its threads stood idle half the time, and each task paid for a wake-up. With the next
 * task already queued in the thread, the same drain delivered about a fifth more per second (bench/README.md,
 * sixteenth session). A queued task runs only after the one ahead of it; the worker runs them one after another.
 */
export const TASKS_PER_THREAD = 2;

/**
 * A task whose thread was stopped before it started the task (the task ahead of it hit its hard deadline, or
 * crashed the thread) is not at fault: it goes back to the queue, at most this many times.
 */
const MAX_REQUEUES = 3;

/**
 * No task is queued in a thread behind one that has run this long already (a heavy payload, or a runaway expression
 * that its hard deadline will stop): it waits for a thread instead. A usual mapping takes about a millisecond.
 */
const QUEUE_BEHIND_MS = 20;

/** piscina's load balancer and its view of a thread (the package root does not export their types). */
type LoadBalancer = NonNullable<NonNullable<ConstructorParameters<typeof Piscina>[0]>['loadBalancer']>;
type PoolThread = NonNullable<ReturnType<LoadBalancer>>;

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
 * The hard deadline: piscina rejects a task whose AbortSignal fires with an AbortError and, when the task is already
 * running, terminates its thread and starts a replacement (piscina 5 `runTask` → `taskInfo.onAbort` →
 * `_removeWorker` + `_ensureMinimumWorkers`). The deadline counts from when the thread stamped the task's start
 * (TaskStamps), not from when it was queued, so a burst waiting for a free thread (or a thread still booting) is not
 * failed for it. Issue 11: the stamp is a write to shared memory, not a message per task, and only a task still
 * running when the watchdog looks (WATCH_MS) gets a timer.
 */
export class MappingPool {
  readonly threads: number;
  readonly tasksPerThread: number;
  readonly hardTimeoutMs: number;
  readonly heapMb?: number;
  private piscina?: Piscina<MappingTask, MappingOutcome>;
  private closed = false;
  private nextTaskId = 1;
  private readonly running = new Map<number, RunningTask>();
  /** Of `running`, the urgent ones. */
  private urgentTasks = 0;
  /**
   * Tasks handed to piscina and not finished: at most tasksPerThread per thread, so piscina queues none but those
   * its balancer holds back from a thread running a long task (`balance`).
   */
  private handedOver = 0;
  /**
   * Tasks waiting for a thread, urgent ones first (but see nextTask), each kind in order (issue 11: ingest's
   * mappings, made before the ack, do not wait behind a backlog being normalised). Kept here because piscina queues
   * a task that has an abort signal, as each of these has for its hard deadline, first come first served.
   */
  private readonly waiting = { urgent: [] as (() => void)[], other: [] as (() => void)[] };
  /** Urgent tasks started in a row while others waited: after URGENT_IN_A_ROW, one of the others goes. */
  private urgentInARow = 0;
  /** Shared with the threads: each stamps a task's start here (mapping.worker.ts, TaskStamps). */
  private readonly stampBuffer: SharedArrayBuffer;
  private readonly stamps: TaskStamps;
  /** Stamp slots not held by a task: one per task piscina may hold (`slots`). */
  private readonly freeSlots: number[];
  private watchdog?: NodeJS.Timeout;

  constructor(options: MappingPoolOptions = {}) {
    this.threads = Math.max(1, Math.floor(options.threads ?? 2));
    this.tasksPerThread = Math.max(1, Math.floor(options.tasksPerThread ?? TASKS_PER_THREAD));
    this.hardTimeoutMs = options.hardTimeoutMs ?? MAPPING_LIMITS.hardTimeoutMs;
    this.heapMb = options.heapMb;
    this.stampBuffer = new SharedArrayBuffer(taskStampBytes(this.slots));
    this.stamps = taskStamps(this.stampBuffer, this.slots);
    this.freeSlots = Array.from({ length: this.slots }, (_, slot) => slot);
  }

  /** Tasks piscina holds at most: tasksPerThread on each thread. */
  private get slots(): number {
    return this.threads * this.tasksPerThread;
  }

  /**
   * Maps one raw body; resolves with validated CloudEvents or rejects with a MappingException naming the reason.
   * `urgent`: it goes before the waiting tasks that are not (see nextTask).
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
    const taskId = this.nextTaskId++;
    const entry: RunningTask = { abort: new AbortController() };
    this.running.set(taskId, entry);
    if (urgent) this.urgentTasks++;
    let outcome: MappingOutcome;
    try {
      for (let requeues = 0; ; requeues++) {
        try {
          outcome = await this.handOver(taskId, entry, { expression, body: privateCopy(raw), context }, urgent);
          break;
        } catch (err) {
          // Its thread stopped before it started the task (MAX_REQUEUES): not the event's fault, so it goes again.
          if (entry.started || entry.abort.signal.aborted || this.closed || requeues >= MAX_REQUEUES) throw err;
        }
      }
    } catch (err) {
      throw this.taskError(expression.name, entry, err);
    } finally {
      clearTimeout(entry.deadline);
      this.running.delete(taskId);
      if (urgent) this.urgentTasks--;
    }
    if (!outcome.ok) {
      const failure = new MappingException(outcome.code, outcome.reason);
      failure.details = outcome.details;
      throw failure;
    }
    return outcome.events;
  }

  /** Waits for a free slot, then runs the task on a thread; `entry.started` says afterwards whether it began. */
  private async handOver(
    taskId: number,
    entry: RunningTask,
    task: MappingTask,
    urgent: boolean,
  ): Promise<MappingOutcome> {
    await this.threadFor(urgent);
    // A free slot's id is 0: each task clears its own when it ends (below).
    const slot = (entry.slot = this.freeSlots.pop()!);
    this.watch();
    try {
      return await this.pool().run(
        { ...task, start: { slot, taskId } },
        { signal: entry.abort.signal, transferList: [task.body.buffer as ArrayBuffer] },
      );
    } finally {
      entry.started = this.stamped(taskId, entry);
      entry.slot = undefined;
      Atomics.store(this.stamps.ids, slot, 0);
      this.freeSlots.push(slot);
      this.nextTask();
    }
  }

  /**
   * Whether an urgent task submitted now waits behind fewer than `perThread` urgent tasks per thread, counting those
   * running (issue 11: ingest maps an event before it stores it only then, so a backed-up pool never holds up an ack
   * for long). Other tasks delay it little: those already running, and one for every URGENT_IN_A_ROW urgent tasks
   * started while others wait.
   */
  acceptsUrgent(perThread: number): boolean {
    return !this.closed && this.urgentTasks < this.threads * perThread;
  }

  /** Terminates every thread; tasks still running or waiting fail with MappingPoolClosedError. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.watchdog);
    for (const start of [...this.waiting.urgent.splice(0), ...this.waiting.other.splice(0)]) start();
    const piscina = this.piscina;
    this.piscina = undefined;
    await piscina?.destroy();
  }

  /** Resolves when the task may go to piscina: a thread is free for it. Throws once the pool is closed. */
  private async threadFor(urgent: boolean): Promise<void> {
    if (this.handedOver < this.slots) this.handedOver++;
    else await new Promise<void>((start) => this.waiting[urgent ? 'urgent' : 'other'].push(start));
    if (this.closed) throw new MappingPoolClosedError();
  }

  /**
   * A task handed over is done: its thread goes to the next waiting task, urgent ones first, except that a task
   * that is not urgent goes after every URGENT_IN_A_ROW urgent ones, so a steady stream of urgent tasks never
   * starves the rest (the backlog's normalisation).
   */
  private nextTask(): void {
    const { urgent, other } = this.waiting;
    const takeOther = other.length > 0 && (urgent.length === 0 || this.urgentInARow >= URGENT_IN_A_ROW);
    const start = takeOther ? other.shift() : urgent.shift();
    this.urgentInARow = start && !takeOther && other.length > 0 ? this.urgentInARow + 1 : 0;
    if (start) start();
    else this.handedOver--;
  }

  private pool(): Piscina<MappingTask, MappingOutcome> {
    if (!this.piscina) {
      this.piscina = new Piscina<MappingTask, MappingOutcome>({
        filename: workerFilename(),
        workerData: { stamps: { buffer: this.stampBuffer, slots: this.slots } },
        minThreads: this.threads,
        maxThreads: this.threads,
        concurrentTasksPerWorker: this.tasksPerThread,
        loadBalancer: this.balance,
        // At most `slots` tasks are handed over (threadFor); piscina holds them only while its threads boot, or
        // while `balance` keeps them off a thread running a long task.
        maxQueue: Infinity,
        ...(this.heapMb ? { resourceLimits: { maxOldGenerationSizeMb: this.heapMb } } : {}),
      });
      // A thread that dies between tasks is replaced by piscina; its error must not crash the process.
      this.piscina.on('error', () => undefined);
    }
    return this.piscina;
  }

  /**
   * piscina's load balancer. Its own puts at most one task with an abort signal (each of ours has one) on a thread;
   * this one puts up to tasksPerThread on the thread that holds the fewest, but none behind a task that has run
   * QUEUE_BEHIND_MS. A thread running exactly one abortable task reports a usage of Infinity (piscina's
   * `currentUsage`): it holds one.
   */
  private readonly balance: LoadBalancer = (_task, threads) => {
    let chosen: PoolThread | null = null;
    let fewest = this.tasksPerThread;
    for (const thread of threads) {
      if (thread.terminating || thread.destroyed) continue;
      const held = thread.isRunningAbortableTask ? 1 : thread.currentUsage;
      if (held >= fewest || (held > 0 && this.runningLong(thread.id))) continue;
      chosen = thread;
      fewest = held;
      if (held === 0) break;
    }
    return chosen;
  };

  /** Whether thread `threadId` runs a task that started QUEUE_BEHIND_MS ago or earlier (from the stamps). */
  private runningLong(threadId: number): boolean {
    const since = Date.now() - QUEUE_BEHIND_MS;
    for (let slot = 0; slot < this.slots; slot++) {
      if (Atomics.load(this.stamps.ids, slot) === 0) continue;
      if (this.stamps.threads[slot] === threadId && this.stamps.at[slot] <= since) return true;
    }
    return false;
  }

  /** Whether the thread holding `entry` (task `taskId`) stamped its start. */
  private stamped(taskId: number, entry: RunningTask): boolean {
    return entry.slot !== undefined && Atomics.load(this.stamps.ids, entry.slot) === (taskId | 0);
  }

  /** Runs the watchdog while any task is with piscina (see WATCH_MS). */
  private watch(): void {
    if (this.watchdog || this.closed) return;
    this.watchdog = setTimeout(() => {
      this.watchdog = undefined;
      let held = false;
      for (const [taskId, entry] of this.running) {
        if (entry.slot === undefined) continue;
        held = true;
        if (entry.deadline || !this.stamped(taskId, entry)) continue;
        const left = this.stamps.at[entry.slot] + this.hardTimeoutMs - Date.now();
        entry.deadline = setTimeout(() => entry.abort.abort(), Math.max(0, left));
      }
      if (held) this.watch();
    }, WATCH_MS);
    this.watchdog.unref();
  }

  private taskError(name: string, task: RunningTask, err: unknown): Error {
    if (task.abort.signal.aborted) {
      return new MappingException(
        MappingErrorCode.Bounds,
        `Mapping ${name} ran longer than the ${this.hardTimeoutMs} ms hard limit; its worker thread was stopped`,
      );
    }
    if (this.closed) return new MappingPoolClosedError();
    // A thread that never started the task (its bootstrap failed) says nothing about the event: retry it later.
    if (!task.started) {
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

/**
 * Compiled (dist/), the worker is the sibling .js file. Under ts-node or Jest this module is .ts and a new thread
 * has none of the parent's require hooks, so a small .js bootstrap registers ts-node in the thread first.
 */
function workerFilename(): string {
  const compiled = join(__dirname, 'mapping.worker.js');
  if (!__filename.endsWith('.ts') && existsSync(compiled)) return compiled;
  return join(__dirname, 'mapping.worker.ts-node.js');
}

/** A private copy, transferred to the thread, not cloned: the caller's Buffer may be a view on a shared pool slab. */
function privateCopy(raw: Buffer | Uint8Array | string): Uint8Array {
  return typeof raw === 'string' ? new TextEncoder().encode(raw) : new Uint8Array(raw);
}

function messageOf(err: unknown): string {
  return (err as Error)?.message ?? String(err);
}
