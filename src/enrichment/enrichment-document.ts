/**
 * Issue 12: a fetched document is stored with its event, bounded in size. Over the bound it is cut where that loses
 * least: the largest array keeps its first elements (a transcript keeps its opening segments), the largest string
 * its head. What remains is still valid JSON of the same shape, so the mapping reads it the usual way; the caller
 * records that it was cut and how large it was.
 */
export interface BoundedDocument {
  document: unknown;
  truncated: boolean;
  /** Bytes of JSON as fetched, before any cut. */
  bytes: number;
}

/** Strings are never cut below this, so ids and names survive whole. */
const MIN_STRING = 64;
const MAX_PASSES = 256;

export function boundDocument(document: unknown, maxBytes: number): BoundedDocument {
  const bytes = sizeOf(document);
  if (bytes <= maxBytes) return { document, truncated: false, bytes };
  let current = document;
  for (let pass = 0; pass < MAX_PASSES; pass++) {
    const size = sizeOf(current);
    if (size <= maxBytes) return { document: current, truncated: true, bytes };
    const target = largestCuttable(current);
    if (!target) break;
    const excess = size - maxBytes;
    if (Array.isArray(target.value)) {
      const keep = target.size - excess;
      let used = 2;
      let count = 0;
      for (const item of target.value) {
        used += sizeOf(item) + 1;
        if (used > keep) break;
        count++;
      }
      // Always progress (at least the last element goes) and keep the first element: if it alone is too large,
      // a later pass cuts inside it instead.
      count = Math.max(1, Math.min(count, target.value.length - 1));
      target.replace(target.value.slice(0, count));
    } else {
      const text = target.value as string;
      const length = Math.max(MIN_STRING, text.length - Math.ceil(excess * 1.1) - 1);
      target.replace(`${text.slice(0, length)}…`);
    }
    current = target.root ?? current;
  }
  // Nothing left to cut (thousands of small keys): keep a marker rather than an unbounded row.
  return { document: { truncated: true }, truncated: true, bytes };
}

function sizeOf(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value) ?? 'null');
}

interface Cuttable {
  value: unknown[] | string;
  size: number;
  replace: (next: unknown) => void;
  /** Set when the document itself is replaced. */
  root?: unknown;
}

/** The largest array of several elements or long string in the document, with a way to put a shorter one in its place. */
function largestCuttable(document: unknown): Cuttable | undefined {
  let best: Cuttable | undefined;
  const consider = (value: unknown, replace: (next: unknown) => void, isRoot: boolean) => {
    const cuttable =
      (Array.isArray(value) && value.length > 1) || (typeof value === 'string' && value.length > MIN_STRING + 1);
    if (!cuttable) return;
    const size = sizeOf(value);
    if (best && best.size >= size) return;
    const entry: Cuttable = { value: value as unknown[] | string, size, replace };
    if (isRoot) entry.replace = (next) => (entry.root = next);
    best = entry;
  };
  const walk = (value: unknown, replace: (next: unknown) => void, isRoot: boolean) => {
    consider(value, replace, isRoot);
    if (Array.isArray(value)) {
      value.forEach((item, i) => walk(item, (next) => (value[i] = next), false));
    } else if (value && typeof value === 'object') {
      const record = value as Record<string, unknown>;
      for (const key of Object.keys(record)) walk(record[key], (next) => (record[key] = next), false);
    }
  };
  walk(document, () => undefined, true);
  return best;
}
