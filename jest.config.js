// Unit specs live beside the code (src/.../*.spec.ts); e2e specs in test/ run against real Postgres and Redis.
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/src', '<rootDir>/test'],
  testRegex: '.*\\.(spec|e2e-spec)\\.ts$',
  transform: {
    '^.+\\.ts$': ['ts-jest', { diagnostics: false }],
    '^.+\\.js$': ['ts-jest', { diagnostics: false, tsconfig: { allowJs: true, module: 'commonjs' } }],
  },
  testTimeout: 60000,
  // @fastify/static (it serves the Swagger UI at /docs) requires two ESM-only packages; node 20 can require them,
  // Jest 29 cannot. content-disposition is compiled to CommonJS for Jest; for glob, the CommonJS build that Jest
  // itself depends on stands in (tests never list static directories).
  transformIgnorePatterns: ['/node_modules/(?!content-disposition/)'],
  moduleNameMapper: { '^glob$': '<rootDir>/node_modules/glob/dist/commonjs/index.js' },
  reporters: ['default', '<rootDir>/test/summary-reporter.js'],
  globalSetup: '<rootDir>/test/global-setup.ts',
};
