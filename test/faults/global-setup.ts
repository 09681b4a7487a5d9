import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import checkServices from '../global-setup';
import { HUB_ENTRY } from './harness/env';
import { resetResults } from './harness/results';

/** Real Postgres and Redis must answer, dist/ must be built, and each run starts a fresh results file. */
export default async function globalSetup(): Promise<void> {
  await checkServices();
  if (!existsSync(HUB_ENTRY))
    throw new Error(`${HUB_ENTRY} is missing: run "npm run build" (npm run test:faults does)`);
  resetResults({
    startedAt: new Date().toISOString(),
    host: { cpus: cpus().length, node: process.version },
    scenarios: {},
  });
}
