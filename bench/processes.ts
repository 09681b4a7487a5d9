/* What the benches share to run servers as their own processes: a compiled hub, forked children, free ports. */
import { ChildProcess, execFileSync, fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';

export const ROOT = join(__dirname, '..');
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Compiles the hub (`tsc -p tsconfig.build.json`, as `npm run build` does for the server) into dist/. */
export function compileHub(cwd = ROOT): void {
  execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
    cwd,
    stdio: 'inherit',
  });
}

/** Forks a server that reports `{port}` over IPC once it listens. */
export function child(
  file: string,
  env: Record<string, string>,
  execArgv: string[] = [],
): Promise<{ proc: ChildProcess; port: number }> {
  const proc = fork(file, [], {
    env: { ...process.env, ...env },
    execArgv,
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    proc.once('message', (message: { port: number }) => resolve({ proc, port: message.port }));
    proc.once('exit', (code) => reject(new Error(`${file} exited with ${code}`)));
  });
}

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

/** CPU time (user + system, ms) of processes, from /proc. */
export function cpuMs(pids: number[]): number {
  return pids.reduce((sum, pid) => {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      return sum + ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
    } catch {
      return sum;
    }
  }, 0);
}
