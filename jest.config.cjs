/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {'^.+\\.(t|j)sx?$': ['@swc/jest', {jsc: {target: 'es2020'}}]},
  setupFilesAfterEnv: ['<rootDir>/test/setup.ts'],
  globalSetup: '<rootDir>/test/global_setup.cjs',
  testTimeout: 60000,
};
