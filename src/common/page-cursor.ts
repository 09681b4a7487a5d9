/**
 * Opaque cursors for the keyset-paged logs (events, deliveries): the sort position of a page's last row. Clients
 * pass it back unchanged; its form (base64url JSON) may change without notice.
 */
export interface PagePosition {
  /** The row's timestamp as Postgres text, microseconds included (a JS Date would lose them and skip rows). */
  at: string;
  id: string;
}

export function encodeCursor(position: PagePosition): string {
  return Buffer.from(JSON.stringify([position.at, position.id]), 'utf8').toString('base64url');
}

/** The position in a cursor, or undefined when it is not one of ours. */
export function decodeCursor(cursor: string): PagePosition | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (!Array.isArray(value) || value.length !== 2) return undefined;
    const [at, id] = value as unknown[];
    if (typeof at !== 'string' || typeof id !== 'string' || Number.isNaN(Date.parse(at))) return undefined;
    return { at, id };
  } catch {
    return undefined;
  }
}

/** A page and the cursor of the next one (absent on the last page). */
export interface Page<T> {
  items: T[];
  nextCursor?: string;
}

/** Asked for limit + 1 rows: the extra one only says that another page exists. */
export function toPage<T extends { id: string; position: string }>(
  rows: T[],
  limit: number,
): Page<Omit<T, 'position'>> {
  const more = rows.length > limit;
  const shown = rows.slice(0, limit);
  const last = shown[shown.length - 1];
  return {
    items: shown.map(({ position: _position, ...row }) => row),
    ...(more && last ? { nextCursor: encodeCursor({ at: last.position, id: last.id }) } : {}),
  };
}
