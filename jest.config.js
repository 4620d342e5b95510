/**
 * Tests live in test/, mirroring the source folders. Type checking is done once by `tsc` in `npm test`
 * (ts-jest only transpiles: isolatedModules in tsconfig.json). The longest files run first, from the
 * durations recorded in test/suiteDurations.json (see test/helpers/testSequencer.js).
 */
module.exports = {
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['<rootDir>/test/helpers/sandboxGlobalsTransform.js', {}] },
  testEnvironment: 'node',
  maxWorkers: 2,
  testSequencer: '<rootDir>/test/helpers/testSequencer.js',
  reporters: ['default', '<rootDir>/test/helpers/summaryReporter.js'],
};
