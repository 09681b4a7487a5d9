import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
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
  await app.listen({ port: config.port, host: config.host });
  // Log what the socket is bound to (HOST may be a name, PORT may be 0), not what the config asked for.
  const bound = app.getHttpServer().address() as AddressInfo;
  const host = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
  logger.info(
    { role: config.role, host: bound.address, port: bound.port },
    `switchboard listening on http://${host}:${bound.port}`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(
    `switchboard failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
