/**
 * `@flowmonkey/core/testing`: the store contract suites that every store implementation
 * (in-memory, Postgres) must pass unchanged, and the factory type they take. Needs vitest.
 */

export { describeCompleteAndResumeManyContract } from './complete-and-resume-many-contract.js';
export {
  CLOCK_TOLERANCE_MS,
  newExecution,
  newParkParams,
  type StoresFactory,
  withTakenParkKeys,
} from './contract-fixtures.js';
export { describeExecutionStoreContract } from './execution-store-contract.js';
export { describeJobStoreContract } from './job-store-contract.js';
export { describeParkOnNewJobContract } from './park-on-new-job-contract.js';
export { describeScheduleStoreContract } from './schedule-store-contract.js';
export { describeStoreContracts } from './store-contracts.js';
export { describeTransactionContract } from './transaction-contract.js';
