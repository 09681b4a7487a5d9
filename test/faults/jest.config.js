// The fault suite (issue 7): hub child processes under load and injected faults. `npm run test:faults` builds
// dist/ first. Separate from `npm test`, whose regex `(spec|e2e-spec)\.ts$` never matches `*.fault-spec.ts`.
module.exports = {
  rootDir: '../..',
  testEnvironment: 'node',
  roots: ['<rootDir>/test/faults'],
  testRegex: '.*\\.fault-spec\\.ts$',
  transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] },
  // A scenario's own waits are bounded well below this; it only stops a hung harness.
  testTimeout: 240_000,
  // Children, the private redis-server and sinks are stopped in afterAll; what may linger is keep-alive sockets of
  // fetch's global pool to ports nobody serves any more, which would only delay the exit.
  forceExit: true,
  reporters: ['default', '<rootDir>/test/summary-reporter.js'],
  globalSetup: '<rootDir>/test/faults/global-setup.ts',
  globalTeardown: '<rootDir>/test/faults/global-teardown.ts',
};
