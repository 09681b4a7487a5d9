import { ComponentPropsWithoutRef, MouseEvent, ReactNode, useEffect, useSyncExternalStore } from 'react';

/** The console lives under /console; routes inside it are plain paths like /events/in_… (no router library). */
export const BASE = '/console';

const listeners = new Set<() => void>();
function subscribe(listener: () => void) {
  listeners.add(listener);
  window.addEventListener('popstate', listener);
  return () => {
    listeners.delete(listener);
    window.removeEventListener('popstate', listener);
  };
}
const snapshot = () => window.location.pathname + window.location.search;

export function navigate(to: string, { replace = false } = {}): void {
  const url = BASE + to;
  if (replace) window.history.replaceState(null, '', url);
  else window.history.pushState(null, '', url);
  listeners.forEach((listener) => listener());
}

export interface Route {
  /** Path inside the console, e.g. `/events/in_123`. */
  path: string;
  query: URLSearchParams;
}

export function useRoute(): Route {
  const href = useSyncExternalStore(subscribe, snapshot, snapshot);
  const url = new URL(href, 'http://console');
  let path = url.pathname.startsWith(BASE) ? url.pathname.slice(BASE.length) : url.pathname;
  if (!path.startsWith('/')) path = `/${path}`;
  return { path, query: url.searchParams };
}

/** Replaces the query of the current page (filters, pager) without a new history entry per keystroke. */
export function setQuery(params: Record<string, string | undefined>, { replace = true } = {}): void {
  const url = new URL(window.location.href);
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === '') url.searchParams.delete(key);
    else url.searchParams.set(key, value);
  }
  const path = url.pathname.slice(BASE.length) || '/';
  navigate(path + url.search, { replace });
}

export function Link({
  to,
  children,
  className,
  ...rest
}: { to: string; children: ReactNode; className?: string } & Omit<ComponentPropsWithoutRef<'a'>, 'href'>) {
  const onClick = (event: MouseEvent<HTMLAnchorElement>) => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
    event.preventDefault();
    navigate(to);
  };
  return (
    <a href={BASE + to} onClick={onClick} className={className} {...rest}>
      {children}
    </a>
  );
}

/** Moves focus to the page heading after a navigation, so screen readers announce the new page. */
export function useFocusOnNavigate(ref: { current: HTMLElement | null }, key: string): void {
  useEffect(() => {
    ref.current?.focus();
  }, [key, ref]);
}
