#!/usr/bin/env node
// The registry this project installs from does not serve the darwin/win32 builds of msgpackr-extract (an optional
// native accelerator that BullMQ pulls in), so `npm install` leaves them out of package-lock.json and `npm ci` then
// refuses the lock as out of sync. This re-adds them as platform-restricted optional entries; npm ci skips them on
// other platforms. Run `node scripts/lock-optional-platforms.js` after any `npm install` that rewrites the lock.
const fs = require('fs');
const file = process.argv[2] ?? require('path').join(__dirname, '..', 'package-lock.json');
const lock = JSON.parse(fs.readFileSync(file, 'utf8'));
const platforms = { 'darwin-arm64': ['darwin', 'arm64'], 'darwin-x64': ['darwin', 'x64'], 'linux-arm': ['linux', 'arm'], 'linux-arm64': ['linux', 'arm64'], 'linux-x64': ['linux', 'x64'], 'win32-x64': ['win32', 'x64'] };
const parent = lock.packages['node_modules/msgpackr-extract'];
let added = 0;
for (const [name, version] of Object.entries(parent.optionalDependencies)) {
  const key = `node_modules/${name}`;
  if (lock.packages[key]) continue;
  const [os, cpu] = platforms[name.split('msgpackr-extract-')[1]];
  lock.packages[key] = { version, cpu: [cpu], license: 'MIT', optional: true, os: [os] };
  added++;
}
lock.packages = Object.fromEntries(Object.entries(lock.packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))));
fs.writeFileSync(file, JSON.stringify(lock, null, 2) + '\n');
console.log(`added ${added} entries`);
