/*
 * Summarises a V8 .cpuprofile (node --cpu-prof; `BENCH_CPU_PROF=1 npm run bench` writes them to
 * bench/results/profiles/): self time by package (or src/ folder) and the top functions by self time.
 * Usage: npx ts-node --transpile-only bench/profile-summary.ts <file.cpuprofile> [top]
 */
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

const [file, topArg] = process.argv.slice(2);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const top = Number(topArg ?? 25);
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map<number, number>();
profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
const total = [...self.values()].reduce((a, b) => a + b, 0);

function bucket(url: string, name: string): string {
  if (!url) return name.startsWith('(') ? name : '(native)';
  const modules = url.split('node_modules/');
  if (modules.length > 1) {
    const parts = modules[modules.length - 1].split('/');
    return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
  }
  const src = /\/(?:dist\/)?src\/([^/]+)\//.exec(url);
  if (src) return `src/${src[1]}`;
  if (url.startsWith('node:'))
    return url
      .replace(/^node:(internal\/)?/, 'node:')
      .split('/')
      .slice(0, 2)
      .join('/');
  return url;
}

const packages = new Map<string, number>();
const functions = new Map<string, number>();
for (const [id, us] of self) {
  const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
  const pkg = bucket(url, functionName);
  packages.set(pkg, (packages.get(pkg) ?? 0) + us);
  const fn = `${functionName || '(anonymous)'} ${url.split('/').slice(-2).join('/')}:${lineNumber + 1}`;
  functions.set(fn, (functions.get(fn) ?? 0) + us);
}
// Native and node: frames (socket writes, Buffer copies) charged to the nearest package or src/ caller.
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const attributed = new Map<string, number>();
for (const [id, us] of self) {
  let at: number | undefined = id;
  const internal = (url: string) => !url || url.startsWith('node:');
  while (at !== undefined && internal(byId.get(at)!.callFrame.url)) at = parent.get(at);
  const frame = byId.get(at ?? id)!.callFrame;
  const name =
    at === undefined ? bucket('', byId.get(id)!.callFrame.functionName) : bucket(frame.url, frame.functionName);
  attributed.set(name, (attributed.get(name) ?? 0) + us);
}
const pct = (us: number) => `${((100 * us) / total).toFixed(1).padStart(5)} %`;
console.log(`${file}: ${(total / 1e6).toFixed(1)} s sampled`);
console.log('\nself time by package / src folder:');
for (const [name, us] of [...packages].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(us)}  ${name}`);
console.log('\nself time, native frames charged to their JavaScript caller:');
for (const [name, us] of [...attributed].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(us)}  ${name}`);
console.log('\ntop functions by self time:');
for (const [name, us] of [...functions].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(us)}  ${name}`);
