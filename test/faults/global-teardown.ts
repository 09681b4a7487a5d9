import { formatChecks, formatTable, readResults, resetResults } from './harness/results';

/** Prints every scenario in one table at the end, and stamps the results file. */
export default async function globalTeardown(): Promise<void> {
  const results = readResults();
  if (!results) return;
  results.finishedAt = new Date().toISOString();
  resetResults(results);
  const scenarios = Object.values(results.scenarios);
  const took = (Date.parse(results.finishedAt) - Date.parse(results.startedAt)) / 1000;
  process.stdout.write(
    `\nFault suite (${scenarios.length} scenarios, ${took.toFixed(0)} s; bench/results/faults.json)\n` +
      `${formatTable(scenarios)}\n${scenarios.map(formatChecks).join('\n')}\n`,
  );
}
