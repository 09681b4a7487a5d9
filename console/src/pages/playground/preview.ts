import { useEffect, useRef, useState } from 'react';
import { ApiError, post } from '../../api/client';
import type { PreviewResult } from '../../api/types';

export const PREVIEW_DEBOUNCE_MS = 300;

export interface PreviewInput {
  connector: string;
  eventType: string;
  expression: string;
  /** A sample body, or… */
  payload?: unknown;
  /** …a stored inbound event (recent real ones, failed included). */
  inboundEventId?: string;
}

export type PreviewState =
  | { state: 'idle' }
  | { state: 'loading'; last?: PreviewResult }
  | { state: 'done'; result: PreviewResult }
  /** The candidate does not compile (422 with `details.position`) or the request failed. */
  | { state: 'error'; error: ApiError | Error; position?: number };

/**
 * Maps the input with the candidate as the user types: waits until typing pauses, sends one request, and drops
 * any answer that arrives after a newer request was sent (typing is faster than the round trip).
 */
export function useDebouncedPreview(input: PreviewInput | undefined, delayMs = PREVIEW_DEBOUNCE_MS): PreviewState {
  const [preview, setPreview] = useState<PreviewState>({ state: 'idle' });
  const sequence = useRef(0);
  const key = input ? JSON.stringify(input) : '';

  useEffect(() => {
    if (!input) return;
    const mine = ++sequence.current;
    setPreview((previous) => ({
      state: 'loading',
      last: previous.state === 'done' ? previous.result : previous.state === 'loading' ? previous.last : undefined,
    }));
    const timer = setTimeout(() => {
      post<PreviewResult>('/api/mappings/preview', input).then(
        (result) => {
          if (mine === sequence.current) setPreview({ state: 'done', result });
        },
        (error: ApiError | Error) => {
          if (mine !== sequence.current) return;
          const position = error instanceof ApiError ? error.body.details?.position : undefined;
          setPreview({ state: 'error', error, position: typeof position === 'number' ? position : undefined });
        },
      );
    }, delayMs);
    return () => clearTimeout(timer);
  }, [key, delayMs]);

  return preview;
}
