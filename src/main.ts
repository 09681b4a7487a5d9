import 'reflect-metadata';
import { createHttpApp, createWorkerContext } from './bootstrap';
import { createRootLogger } from './common/logger';
import { ConfigError, loadConfig } from './config/hub-config';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
  const logger = createRootLogger(config.logLevel);
  if (config.role === 'worker') {
    await createWorkerContext(config, logger);
    logger.info({ role: config.role }, 'switchboard worker started');
    return;
  }
  const app = await createHttpApp(config, logger);
  await app.listen({ port: config.port, host: '0.0.0.0' });
  logger.info({ role: config.role, port: config.port }, `switchboard listening on http://127.0.0.1:${config.port}`);
}

main().catch((err: unknown) => {
  process.stderr.write(
    `switchboard failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
