import { useState } from 'react';

/** Copies a value (a hook URL, a secret shown once) and says so in a live region. */
export function CopyButton({ value, label = 'Copy' }: { value: string; label?: string }) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      setState('copied');
    } catch {
      setState('failed');
    }
    setTimeout(() => setState('idle'), 2000);
  };
  return (
    <span className="copy">
      <button type="button" onClick={() => void copy()} aria-label={`${label}: ${value.length > 40 ? 'value' : value}`}>
        {label}
      </button>
      <span role="status" aria-live="polite" className="muted">
        {state === 'copied' ? 'Copied' : state === 'failed' ? 'Copy failed: select and copy the text' : ''}
      </span>
    </span>
  );
}
