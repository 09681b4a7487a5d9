export function formatTime(value: string | null | undefined): string {
  if (!value) return '—';
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? value : date.toLocaleString(undefined, { hour12: false });
}

export function formatPercent(rate: number | null | undefined): string {
  return rate === null || rate === undefined ? '—' : `${Math.round(rate * 1000) / 10} %`;
}

export const pretty = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value, null, 2));

export function StatusBadge({ status }: { status: string }) {
  const tone =
    status === 'succeeded' || status === 'normalized' || status === 'active' || status === 'delivered'
      ? 'good'
      : status === 'failed' || status === 'exhausted' || status === 'disabled'
        ? 'bad'
        : 'neutral';
  return <span className={`badge ${tone}`}>{status}</span>;
}
