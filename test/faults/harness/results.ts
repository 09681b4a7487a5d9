import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname } from 'node:path';
import { RESULTS_FILE } from './env';

export interface ScenarioResult {
  scenario: string;
  title: string;
  acknowledged: number;
  delivered: number;
  lost: number;
  duplicates: number;
  duplicatesShareWebhookId: boolean;
  maxAckToDeliveryMs: number | null;
  durationMs: number;
  /** The scenario's own condition, in words, and whether it held. */
  checks: { name: string; ok: boolean; detail?: string }[];
  details: Record<string, unknown>;
}

export interface ResultsFile {
  startedAt: string;
  finishedAt?: string;
  host: { cpus: number; node: string };
  scenarios: Record<string, ScenarioResult>;
}

export function resetResults(file: ResultsFile): void {
  mkdirSync(dirname(RESULTS_FILE), { recursive: true });
  writeFileSync(RESULTS_FILE, `${JSON.stringify(file, null, 2)}\n`);
}

export function readResults(): ResultsFile | undefined {
  return existsSync(RESULTS_FILE) ? (JSON.parse(readFileSync(RESULTS_FILE, 'utf8')) as ResultsFile) : undefined;
}

/** Records one scenario into bench/results/faults.json (jest runs the files in band, so no write races) and prints it. */
export function recordScenario(result: ScenarioResult): void {
  const file = readResults() ?? {
    startedAt: new Date().toISOString(),
    host: { cpus: cpus().length, node: process.version },
    scenarios: {},
  };
  file.scenarios[result.scenario] = result;
  resetResults(file);
  process.stdout.write(`\n${formatTable([result])}\n${formatChecks(result)}\n`);
}

const COLUMNS: [string, (r: ScenarioResult) => string][] = [
  ['scenario', (r) => r.scenario],
  ['acked', (r) => String(r.acknowledged)],
  ['delivered', (r) => String(r.delivered)],
  ['lost', (r) => String(r.lost)],
  ['dups', (r) => String(r.duplicates)],
  ['dups same id', (r) => (r.duplicates ? (r.duplicatesShareWebhookId ? 'yes' : 'NO') : '-')],
  ['max ack→delivery', (r) => (r.maxAckToDeliveryMs === null ? '-' : `${(r.maxAckToDeliveryMs / 1000).toFixed(1)} s`)],
  ['checks', (r) => (r.checks.every((c) => c.ok) ? 'pass' : `FAIL ${r.checks.filter((c) => !c.ok).length}`)],
  ['took', (r) => `${(r.durationMs / 1000).toFixed(0)} s`],
];

export function formatTable(results: ScenarioResult[]): string {
  const rows = [COLUMNS.map(([name]) => name), ...results.map((r) => COLUMNS.map(([, cell]) => cell(r)))];
  const widths = COLUMNS.map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  const line = (row: string[]) => `| ${row.map((cell, i) => cell.padEnd(widths[i])).join(' | ')} |`;
  return [line(rows[0]), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.slice(1).map(line)].join('\n');
}

export function formatChecks(result: ScenarioResult): string {
  return result.checks
    .map((c) => `  ${c.ok ? 'ok  ' : 'FAIL'} ${result.scenario}: ${c.name}${c.detail ? ` (${c.detail})` : ''}`)
    .join('\n');
}
