/** Jest runs the TypeScript sources through swc (no type check: `npm run typecheck` does that). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.(t|j)sx?$': ['@swc/jest'] },
  // adaptivecards 3 ships ESM in lib/ without "type": "module"; its UMD build loads under Jest.
  moduleNameMapper: {
    '^adaptivecards$': '<rootDir>/node_modules/adaptivecards/dist/adaptivecards.js',
  },
  globalSetup: '<rootDir>/test/support/global-setup.js',
  setupFiles: ['<rootDir>/test/support/loopback-guard.js'],
  // Removes the temporary folders each test file made (test/support/temp-cleanup.js).
  setupFilesAfterEnv: ['<rootDir>/test/support/temp-cleanup.js'],
  testTimeout: 60000,
  reporters: ['default', '<rootDir>/test/support/summary-reporter.js'],
};
