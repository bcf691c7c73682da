import type { StoresFactory } from './contract-fixtures.js';
import { describeExecutionStoreContract } from './execution-store-contract.js';
import { describeJobStoreContract } from './job-store-contract.js';
import { describeScheduleStoreContract } from './schedule-store-contract.js';
import { describeTransactionContract } from './transaction-contract.js';

/**
 * Registers every store contract suite (jobs, executions, schedules, transactions) for the
 * stores `factory` makes. A store implementation passes when all of them pass unchanged.
 * Stores with the optional `Stores.parkOnNewJob` also register
 * `describeParkOnNewJobContract`, and those with `Stores.completeAndResumeMany`
 * `describeCompleteAndResumeManyContract`.
 */
export function describeStoreContracts(name: string, factory: StoresFactory): void {
  describeJobStoreContract(name, factory);
  describeExecutionStoreContract(name, factory);
  describeScheduleStoreContract(name, factory);
  describeTransactionContract(name, factory);
}
