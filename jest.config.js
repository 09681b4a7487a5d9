// Unit specs live beside the code (src/.../*.spec.ts); e2e specs in test/ run against real Postgres and Redis.
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/src', '<rootDir>/test'],
  testRegex: '.*\\.(spec|e2e-spec)\\.ts$',
  transform: { '^.+\\.ts$': ['ts-jest', { isolatedModules: true }] },
  testTimeout: 60000,
  globalSetup: '<rootDir>/test/global-setup.ts',
};
