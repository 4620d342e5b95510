/** Tests live in test/, mirroring the source folders. Type checking is done once by `tsc --noEmit` in `npm test`. */
module.exports = {
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', {}] },
  testEnvironment: 'node',
  maxWorkers: 2,
  reporters: ['default', '<rootDir>/test/helpers/summaryReporter.js'],
};
