import { useState } from 'react';

/** Cursor paging for the hub's logs: a stack of the cursors that led here, so "Newer" can go back. */
export function useCursorPager() {
  const [stack, setStack] = useState<(string | undefined)[]>([undefined]);
  const cursor = stack[stack.length - 1];
  return {
    cursor,
    page: stack.length,
    next: (nextCursor: string) => setStack((s) => [...s, nextCursor]),
    previous: () => setStack((s) => (s.length > 1 ? s.slice(0, -1) : s)),
    reset: () => setStack([undefined]),
  };
}

export function CursorPager({
  pager,
  nextCursor,
  label,
}: {
  pager: ReturnType<typeof useCursorPager>;
  nextCursor?: string;
  label: string;
}) {
  return (
    <nav className="pager" aria-label={`${label} pages`}>
      <button type="button" onClick={pager.previous} disabled={pager.page <= 1}>
        ← Newer
      </button>
      <span>Page {pager.page}</span>
      <button type="button" onClick={() => nextCursor && pager.next(nextCursor)} disabled={!nextCursor}>
        Older →
      </button>
    </nav>
  );
}

/** Paging for the short lists the hub returns whole (sources, destinations, issue groups). */
export function usePaged<T>(items: T[] | undefined, size = 20) {
  const [page, setPage] = useState(1);
  const total = items?.length ?? 0;
  const pages = Math.max(1, Math.ceil(total / size));
  const current = Math.min(page, pages);
  return {
    items: (items ?? []).slice((current - 1) * size, current * size),
    page: current,
    pages,
    total,
    setPage,
  };
}

export function ListPager({ paged, label }: { paged: ReturnType<typeof usePaged>; label: string }) {
  if (paged.total === 0) return null;
  return (
    <nav className="pager" aria-label={`${label} pages`}>
      <button type="button" onClick={() => paged.setPage(paged.page - 1)} disabled={paged.page <= 1}>
        ← Previous
      </button>
      <span>
        Page {paged.page} of {paged.pages} ({paged.total})
      </span>
      <button type="button" onClick={() => paged.setPage(paged.page + 1)} disabled={paged.page >= paged.pages}>
        Next →
      </button>
    </nav>
  );
}
