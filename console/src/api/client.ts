/**
 * The console talks to the hub's /api and nothing else. Authentication is the HttpOnly session cookie (the
 * browser sends it; scripts never see it); mutating requests repeat the session's CSRF token in x-csrf-token.
 */

/** The hub's one error shape (DESIGN §7), plus `details` such as a JSONata error's `position`. */
export interface HubErrorBody {
  statusCode: number;
  error: string;
  message: string;
  correlationId?: string;
  details?: Record<string, unknown>;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: HubErrorBody,
  ) {
    super(body.message);
  }
}

let csrfToken: string | undefined;
let onSignedOut: (() => void) | undefined;

export function setCsrfToken(token: string | undefined): void {
  csrfToken = token;
}

/** Called when the hub answers 401 to a signed-in page: the session ended (expired or signed out elsewhere). */
export function onSessionLost(handler: () => void): void {
  onSignedOut = handler;
}

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export async function api<T>(method: Method, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
    });
  } catch {
    throw new ApiError(0, { statusCode: 0, error: 'Network error', message: 'The hub did not answer; is it running?' });
  }
  const text = await response.text();
  let parsed: unknown = undefined;
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
  }
  if (!response.ok) {
    const errorBody =
      parsed && typeof parsed === 'object' && 'message' in parsed
        ? (parsed as HubErrorBody)
        : { statusCode: response.status, error: response.statusText, message: text || response.statusText };
    if (response.status === 401 && path !== '/api/session') onSignedOut?.();
    throw new ApiError(response.status, errorBody);
  }
  return parsed as T;
}

export const get = <T>(path: string) => api<T>('GET', path);
export const post = <T>(path: string, body?: unknown) => api<T>('POST', path, body ?? {});
export const put = <T>(path: string, body?: unknown) => api<T>('PUT', path, body ?? {});
export const patch = <T>(path: string, body?: unknown) => api<T>('PATCH', path, body ?? {});
export const del = <T>(path: string) => api<T>('DELETE', path);

/** A query string from the defined values only. */
export function qs(params: Record<string, string | number | boolean | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

export const enc = encodeURIComponent;
