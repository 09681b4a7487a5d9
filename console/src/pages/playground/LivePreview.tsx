import { pretty } from '../../components/format';
import type { MappingError } from '../../api/types';
import type { PreviewState } from './preview';

/** The right-hand column: the canonical output, or why there is none. */
export function LivePreview({ preview }: { preview: PreviewState }) {
  const result = preview.state === 'done' ? preview.result : preview.state === 'loading' ? preview.last : undefined;
  return (
    <div className="live-preview" aria-busy={preview.state === 'loading'}>
      <p role="status" aria-live="polite" className="preview-status">
        {preview.state === 'loading' && 'Mapping…'}
        {preview.state === 'done' &&
          (preview.result.errors.length
            ? `Invalid: ${preview.result.errors.length} error(s)`
            : `Valid: ${preview.result.events.length} canonical event(s) in ${Math.round(preview.result.durationMs)} ms`)}
        {preview.state === 'error' && 'The expression has an error'}
      </p>
      {preview.state === 'error' && (
        <div className="error-note" role="alert">
          {preview.error.message}
          {preview.position !== undefined && <span> (at character {preview.position})</span>}
        </div>
      )}
      {result && result.errors.length > 0 && <MappingErrors errors={result.errors} />}
      {result && result.events.length > 0 && (
        <pre className="output" tabIndex={0} aria-label="Canonical output">
          {pretty(result.events)}
        </pre>
      )}
    </div>
  );
}

export function MappingErrors({ errors }: { errors: MappingError[] }) {
  return (
    <ul className="mapping-errors" role="alert" aria-label="Validation errors">
      {errors.map((error, i) => (
        <li key={i}>
          <code>{error.code}</code>
          {error.problems?.length ? (
            <ul>
              {error.problems.map((problem) => (
                <li key={problem.path + problem.message}>
                  {error.output !== undefined && `output #${error.output} `}
                  <code>{problem.path}</code>: {problem.message}
                </li>
              ))}
            </ul>
          ) : (
            <> {error.message}</>
          )}
        </li>
      ))}
    </ul>
  );
}
