/*
 * Node-RED doing the ceiling's job (issue 11 compares the hub's acks with Node-RED's): one flow of stock nodes,
 * `http in` → `function` → `http response`, and `http request` (keep-alive) to each destination. The function node
 * verifies the Svix signature on the raw bytes, runs the same shipped JSONata mapping with the same bindings as
 * bench/ceiling.ts (standardwebhooks and jsonata handed in through functionGlobalContext), and sends the signed
 * CloudEvent on. Like the ceiling it keeps nothing: a failed POST is lost.
 *
 * Node-RED is not a dependency of the hub. pipeline.bench.ts runs this target only with BENCH_NODE_RED=1, and then
 * installs it once (`npm install node-red@4.1.15`, the newest line that runs on Node 20) into a folder under the system's temporary directory.
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, ROOT, sleep } from './processes';

const VERSION = '4.1.15';
const INSTALL_DIR = process.env.BENCH_NODE_RED_DIR ?? join(tmpdir(), `switchboard-bench-node-red-${VERSION}`);

/** The function node's body: verify, map, answer 202 on output 1, one signed POST per destination on output 2. */
const FUNCTION = `
const state = context.get('state') || (() => {
  const Webhook = global.get('Webhook');
  const made = {
    inbound: new Webhook(env.get('NODE_RED_BENCH_SECRET')),
    outbound: new Webhook(global.get('outboundSecret')),
    compiled: {},
    sequence: 0,
  };
  context.set('state', made);
  return made;
})();
const connector = msg.req.params.connector;
const destinations = Number(msg.req.params.count || 1);
const text = msg.req.rawBody.toString('utf8');
try {
  if (connector === 'askelephant') {
    state.inbound.verify(text, {
      'webhook-id': msg.req.headers['svix-id'],
      'webhook-timestamp': msg.req.headers['svix-timestamp'],
      'webhook-signature': msg.req.headers['svix-signature'],
    });
  }
  const body = JSON.parse(text);
  const type = connector === 'askelephant' ? body.type : body.event;
  const key = connector + '/' + type;
  const expression = state.compiled[key] || (state.compiled[key] = global.get('jsonata')(
    global.get('fs').readFileSync(global.get('root') + '/mappings/' + key + '.jsonata', 'utf8')));
  const receivedAt = new Date().toISOString();
  const result = await expression.evaluate(body, {
    connector, sourceId: 'src_node_red_' + connector, receivedAt, occurredAt: body.created_at, eventId: body.id,
  });
  const id = 'in_' + (++state.sequence);
  const event = JSON.stringify({
    specversion: '1.0', id: 'evt_' + id, type: result.type, source: 'switchboard/sources/src_node_red_' + connector,
    subject: result.subject, time: result.time || receivedAt, datacontenttype: 'application/json', connector,
    vendoreventtype: type, ...(body.id ? { vendoreventid: body.id } : {}), test: false, data: result.data,
  });
  const posts = [];
  for (let d = 1; d <= destinations; d++) {
    const webhookId = 'msg_' + id + '_' + d;
    const now = new Date();
    posts.push({
      method: 'POST',
      url: global.get('sink') + '/d/' + d,
      payload: event,
      headers: {
        'content-type': 'application/json',
        'webhook-id': webhookId,
        'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
        'webhook-signature': state.outbound.sign(webhookId, now, event),
      },
    });
  }
  msg.statusCode = 202;
  msg.headers = { 'content-type': 'application/json' };
  msg.payload = JSON.stringify({ id });
  node.send([msg, posts]);
} catch (err) {
  msg.statusCode = 400;
  msg.payload = '';
  node.send([msg, null]);
}
return null;
`;

function flows(): unknown[] {
  return [
    { id: 'bench', type: 'tab', label: 'switchboard bench' },
    {
      id: 'in',
      type: 'http in',
      z: 'bench',
      url: '/hooks/:connector/:count',
      method: 'post',
      upload: false,
      wires: [['fn']],
    },
    { id: 'fn', type: 'function', z: 'bench', func: FUNCTION, outputs: 2, wires: [['res'], ['post']] },
    { id: 'res', type: 'http response', z: 'bench', statusCode: '', headers: {}, wires: [] },
    {
      id: 'post',
      type: 'http request',
      z: 'bench',
      method: 'use',
      ret: 'txt',
      url: '',
      persist: true,
      senderr: false,
      wires: [],
    },
  ];
}

/** Settings: no editor or admin API, the raw body kept for the signature, the shared modules handed in. */
function settings(port: number, sink: string): string {
  const module = (name: string) => JSON.stringify(join(ROOT, 'node_modules', name));
  return `module.exports = {
  uiHost: '127.0.0.1',
  uiPort: ${port},
  httpAdminRoot: false,
  httpNodeRoot: '/',
  flowFile: 'flows.json',
  credentialSecret: false,
  logging: { console: { level: 'error', metrics: false, audit: false } },
  functionGlobalContext: {
    Webhook: require(${module('standardwebhooks')}).Webhook,
    jsonata: require(${module('jsonata')}),
    fs: require('node:fs'),
    root: ${JSON.stringify(ROOT)},
    sink: ${JSON.stringify(sink)},
    outboundSecret: ${JSON.stringify(randomBytes(32).toString('base64'))},
  },
  // The raw bytes for the signature; body-parser then skips a request whose _body is set.
  httpNodeMiddleware: (req, res, next) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      req.rawBody = Buffer.concat(chunks);
      req.body = {};
      req._body = true;
      next();
    });
  },
};
`;
}

/** Installs Node-RED once (npm registry) and returns its red.js. */
export function nodeRedInstalled(): string {
  const red = join(INSTALL_DIR, 'node_modules', 'node-red', 'red.js');
  if (!existsSync(red)) {
    mkdirSync(INSTALL_DIR, { recursive: true });
    console.log(`installing node-red@${VERSION} into ${INSTALL_DIR}…`);
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefix', INSTALL_DIR, `node-red@${VERSION}`], {
      stdio: 'inherit',
    });
  }
  return red;
}

/** Starts Node-RED with the flow; resolves once it answers HTTP. */
export async function startNodeRed(
  sinkUrl: string,
  secret: string,
): Promise<{ proc: ChildProcess; base: string; stop(): Promise<void> }> {
  const red = nodeRedInstalled();
  const userDir = mkdtempSync(join(tmpdir(), 'switchboard-bench-node-red-user-'));
  const port = await freePort();
  writeFileSync(join(userDir, 'settings.js'), settings(port, sinkUrl));
  writeFileSync(join(userDir, 'flows.json'), JSON.stringify(flows()));
  const proc = spawn(process.execPath, [red, '--userDir', userDir, '--settings', join(userDir, 'settings.js')], {
    env: { ...process.env, NODE_RED_BENCH_SECRET: secret },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    const up = await fetch(`${base}/hooks/salesask/0`, { method: 'POST', body: '{}' }).then(
      (res) => res.status === 202 || res.status === 400,
      () => false,
    );
    if (up) break;
    if (proc.exitCode !== null || Date.now() > deadline) throw new Error('Node-RED did not start');
    await sleep(200);
  }
  return {
    proc,
    base,
    stop: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null) return resolve();
        proc.once('exit', () => resolve());
        proc.kill('SIGTERM');
      }),
  };
}
