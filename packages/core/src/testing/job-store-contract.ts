import { describe } from 'vitest';
import { type StoresFactory, useStores } from './contract-fixtures.js';
import { describeJobCancelRequestContract } from './job-cancel-request-contract.js';
import { describeJobClaimContract } from './job-claim-contract.js';
import { describeJobCompleteManyContract } from './job-complete-many-contract.js';
import { describeJobCreateContract } from './job-create-contract.js';
import { describeJobDeadLetterContract } from './job-dead-letter-contract.js';
import { describeJobInputContract } from './job-input-contract.js';
import { describeJobLeaseContract } from './job-lease-contract.js';
import { describeJobQueryContract } from './job-query-contract.js';
import { describeJobRetryDelayContract } from './job-retry-delay-contract.js';

/**
 * Registers the `JobStore` contract suite under `describe(name)`: one `describe` per
 * method, run against fresh stores from `factory` for every test. Time-dependent calls
 * pass an explicit `now`, so a store on database time passes as well as one on a clock.
 */
export function describeJobStoreContract(name: string, factory: StoresFactory): void {
  describe(`${name}: JobStore contract`, () => {
    const stores = useStores(factory);
    describeJobCreateContract(stores);
    describeJobClaimContract(stores);
    describeJobLeaseContract(stores);
    describeJobCompleteManyContract(stores);
    describeJobCancelRequestContract(stores);
    describeJobRetryDelayContract(stores);
    describeJobQueryContract(stores);
    describeJobDeadLetterContract(stores);
    describeJobInputContract(stores);
  });
}
