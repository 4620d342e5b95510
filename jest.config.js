/** Tests live in test/, mirroring the source folders. Type checking is done once by `tsc --noEmit` in `npm test`. */
module.exports = {
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { isolatedModules: true }] },
  testEnvironment: 'node',
  maxWorkers: 2,
};
