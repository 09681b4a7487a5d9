import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { deleteQueueKeys, dropDatabase, waitFor } from './helpers/hub';

const SERVER_URL = process.env.TEST_DATABASE_SERVER ?? 'postgres://postgres@127.0.0.1:5432';
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** This machine's own non-loopback IPv4 address, if it has one (connecting to it never leaves the host). */
function ownExternalAddress(): string | undefined {
  return Object.values(networkInterfaces())
    .flat()
    .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
}

function connectOutcome(host: string, port: number): Promise<'connected' | string> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.setTimeout(3000, () => {
      socket.destroy();
      resolve('timeout');
    });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

/** Issue 7: the hub listened on 0.0.0.0 while it logged 127.0.0.1. main.ts is run as a real process here. */
describe('HOST e2e (the real entry point)', () => {
  const suffix = `${process.pid}_${randomBytes(4).toString('hex')}`;
  const databaseName = `sbtest_${suffix}`;
  const queuePrefix = `sbtest_${suffix}`;
  let child: ChildProcess | undefined;
  const lines: string[] = [];

  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    await dropDatabase(databaseName);
    await deleteQueueKeys(queuePrefix);
  });

  it('listens on loopback by default and logs the address it actually bound', async () => {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      PORT: '0', // the logged port must be the bound one, not the configured 0
      DATABASE_URL: `${SERVER_URL}/${databaseName}`,
      REDIS_URL,
      HUB_QUEUE_PREFIX: queuePrefix,
      HUB_ROLE: 'api',
      HUB_API_KEY: 'test-api-key-0123456789abcdef',
      HUB_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      LOG_LEVEL: 'info',
    };
    child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'src/main.ts'], {
      cwd: join(__dirname, '..'),
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let buffered = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const parts = buffered.split('\n');
      buffered = parts.pop() ?? '';
      lines.push(...parts);
    });
    child.stderr!.on('data', (chunk: Buffer) => lines.push(chunk.toString('utf8')));

    const started = await waitFor(
      () =>
        lines
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l) as { msg: string; host?: string; port?: number })
          .find((l) => l.msg.startsWith('switchboard listening on')),
      { timeoutMs: 45_000, intervalMs: 100, what: `the listening line (output so far: ${lines.join('\n')})` },
    );
    expect(started.host).toBe('127.0.0.1');
    expect(started.port).toBeGreaterThan(0);
    expect(started.msg).toBe(`switchboard listening on http://127.0.0.1:${started.port}`);

    await request(`http://127.0.0.1:${started.port}`).get('/health').expect(200);
    const external = ownExternalAddress();
    if (external) expect(await connectOutcome(external, started.port!)).toBe('ECONNREFUSED');
  });
});
