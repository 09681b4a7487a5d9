import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface ChartSeries {
  label: string;
  values: number[];
  /** A colour with enough contrast on white (WCAG 3:1 for graphics). */
  stroke: string;
}

/**
 * A small uPlot line chart of hourly counts. The canvas is decorative for screen readers: the figure's caption
 * and the totals beside it say the same in text.
 */
export function SmallChart({
  from,
  bucketSeconds,
  series,
  title,
}: {
  from: string;
  bucketSeconds: number;
  series: ChartSeries[];
  title: string;
}) {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!host.current || !series.length) return;
    const start = new Date(from).getTime() / 1000;
    const length = series[0].values.length;
    const xs = Array.from({ length }, (_, i) => start + i * bucketSeconds);
    const chart = new uPlot(
      {
        width: 280,
        height: 130,
        legend: { show: false },
        cursor: { show: false },
        axes: [
          { stroke: '#444', grid: { show: false }, ticks: { show: false }, size: 36, font: '10px sans-serif' },
          { stroke: '#444', grid: { stroke: '#e5e5e5' }, size: 32, font: '10px sans-serif' },
        ],
        scales: { y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
        series: [{}, ...series.map((s) => ({ label: s.label, stroke: s.stroke, width: 2, points: { show: false } }))],
      },
      [xs, ...series.map((s) => s.values)],
      host.current,
    );
    return () => chart.destroy();
  }, [from, bucketSeconds, series]);

  const totals = series.map((s) => `${s.label} ${s.values.reduce((a, b) => a + b, 0)}`).join(', ');
  return (
    <figure className="chart">
      <figcaption>
        <strong>{title}</strong>
        <span className="legend">
          {series.map((s) => (
            <span key={s.label}>
              <span className="swatch" style={{ background: s.stroke }} aria-hidden="true" /> {s.label}{' '}
              {s.values.reduce((a, b) => a + b, 0)}
            </span>
          ))}
        </span>
      </figcaption>
      <div ref={host} role="img" aria-label={`${title}, last 24 hours: ${totals}`} />
    </figure>
  );
}
