import { ApiError } from '../api/client';

/** An API error shown where the user acted, with the hub's message and correlation id for the logs. */
export function ErrorNote({ error, id }: { error: unknown; id?: string }) {
  if (!error) return null;
  const message = error instanceof Error ? error.message : String(error);
  const correlationId = error instanceof ApiError ? error.body.correlationId : undefined;
  const status = error instanceof ApiError && error.status ? `${error.status} ` : '';
  return (
    <div className="error-note" role="alert" id={id}>
      <strong>{status}</strong>
      {message}
      {correlationId && <span className="muted"> (correlation id {correlationId})</span>}
    </div>
  );
}
