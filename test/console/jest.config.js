// The console's browser suite (npm run test:console): Playwright (playwright-core) driving Debian's Chromium against
// a real hub on the real Postgres and Redis. Kept out of `npm test`: its files end in .browser-spec.ts.
const base = require('../../jest.config');

module.exports = {
  ...base,
  rootDir: '../..',
  roots: ['<rootDir>/test/console'],
  testRegex: '.*\\.browser-spec\\.ts$',
  testTimeout: 180000,
};
