const TIMED_OUT = Symbol('timed out');

/** Rejects with `<what> did not answer within <ms> ms` when the promise is slower; the timer never outlives it. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  const result = await within(promise, ms, TIMED_OUT);
  if (result === TIMED_OUT) throw new Error(`${what} did not answer within ${ms} ms`);
  return result;
}

/**
 * The promise's outcome, or `late` when the promise is slower than `ms`; the timer never outlives it. The promise
 * itself runs on: a caller that lets it go handles its late failure.
 */
export async function within<T, L>(promise: Promise<T>, ms: number, late: L): Promise<T | L> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<L>((resolve) => {
    timer = setTimeout(() => resolve(late), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
