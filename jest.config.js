/** One jest run covers unit, integration and end-to-end tests (ESM: @kubernetes/client-node is ESM-only). */
export default {
  preset: 'ts-jest/presets/default-esm',
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json', diagnostics: false }],
  },
  testTimeout: 30000,
  // The default reporter, then one plain `N passed, N failed` line to end the run.
  reporters: ['default', '<rootDir>/test/support/summary-reporter.js'],
  // One real kube-apiserver + controllers per run (envtest style), shared by namespace.
  globalSetup: '<rootDir>/test/envtest/global-setup.ts',
  globalTeardown: '<rootDir>/test/envtest/global-teardown.ts',
};
