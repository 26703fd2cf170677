/**
 * The end-to-end suite (`npm run test:e2e`): a real kube-apiserver with the Argo Rollouts
 * controller and a real PostgreSQL, started once per run by e2e/tests/global-setup.ts.
 * One test file at a time: the files share the control plane and the machine has 2 cores.
 */
/** @type {import('jest').Config} */
module.exports = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  roots: ['<rootDir>/e2e/tests'],
  testMatch: ['**/*.e2e.test.ts'],
  globalSetup: '<rootDir>/e2e/tests/global-setup.ts',
  globalTeardown: '<rootDir>/e2e/tests/global-teardown.ts',
  testTimeout: 600000,
  maxWorkers: 1,
};
