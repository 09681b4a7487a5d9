/** One queue registry (STYLE habit 5): queue names here, job names as `SomethingJob.name`, data types beside each job. */
export enum QueueName {
  Normalize = 'normalize',
  Deliver = 'deliver',
  /** Issue 12: fetch what an event points to, between commit and normalize. */
  Enrich = 'enrich',
}

/** Rows younger than this are left to the process that just enqueued them. */
export const RECONCILE_GRACE_SECONDS = 2;
/** A normalisation tried this recently has its retry scheduled already: the reconciler leaves it alone. */
export const NORMALIZE_RETRY_SECONDS = 10;
/** Normalisation tries before an event that keeps failing (or keeps killing its worker) ends `failed`. */
export const MAX_NORMALIZE_ATTEMPTS = 10;
/**
 * A delivery job whose destination is at its in-flight cap goes back to the queue until the destination's next free
 * turn (BusyPacer): turns are spaced by its recent time per attempt (this guess until one is seen) over its cap,
 * never more than the maximum ahead.
 */
export const DESTINATION_FIRST_GUESS_MS = 100;
export const DESTINATION_BUSY_MAX_DELAY_MS = 10_000;
/** How long a job waits in-process for a busy destination's slot before it goes back to the queue (issue 11). */
export const DESTINATION_WAIT_MS = 50;
/**
 * A delivery normalisation just wrote waits in-process this long for its destination's slot before it goes to the
 * queue (DeliverJob.dispatch). Shorter than the reconciler's grace, so the reconciler never enqueues one still waiting.
 */
export const DISPATCH_WAIT_MS = 1000;
/** At most this many such deliveries wait per destination; the rest go to the queue at once. */
export const DISPATCH_MAX_WAITERS = 256;
/**
 * Issue 11: events ingest has just stored wait in-process this long for a normalisation slot before they go to the
 * normalize queue. Shorter than NORMALIZE_RETRY_SECONDS, so the reconciler never enqueues one still waiting.
 */
export const NORMALIZE_WAIT_MS = 5000;
/**
 * Issue 11: ingest maps an event before it stores it (NormalizeJob.prepareFirst) while the mapping pool holds fewer
 * than this many tasks per thread, and waits for that mapping at most PREPARE_WAIT_MS; otherwise the event is stored
 * alone and normalised after the ack. Queueing behind a few tasks costs the vendor a millisecond or two; declining
 * costs the hub a commit and an update of the stored event.
 */
export const PREPARE_TASKS_PER_THREAD = 4;
export const PREPARE_WAIT_MS = 50;
/** At most this many such events wait, each with a body of at most NORMALIZE_WAITER_MAX_BYTES (memory stays bounded). */
export const NORMALIZE_MAX_WAITERS = 256;
export const NORMALIZE_WAITER_MAX_BYTES = 64 * 1024;
/**
 * A webhook destination's slots grow (up to HUB_DESTINATION_MAX_CONCURRENCY) while its attempts take at most this
 * long, and halve (down to HUB_DESTINATION_CONCURRENCY) on a slower or failed one (DestinationGate).
 */
export const DESTINATION_FAST_ATTEMPT_MS = 250;
/** The enrich lease outlives the fetch deadline by this much, so the reconciler never re-enqueues a live fetch. */
export const ENRICH_LEASE_MARGIN_SECONDS = 10;
/** How long an enrich job waits in-process for its busy source's slot before it goes back to the queue. */
export const SOURCE_WAIT_MS = 1000;
/**
 * An enrich job that goes back to the queue comes back at its source's next free turn (BusyPacer): turns are
 * spaced by the source's recent time per job (this guess until one is seen) over its cap, never more than the
 * maximum ahead.
 */
export const SOURCE_FIRST_GUESS_MS = 200;
export const SOURCE_BUSY_MAX_DELAY_MS = 60_000;
