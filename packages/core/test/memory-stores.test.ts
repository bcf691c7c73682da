import { createMemoryStores } from '../src/memory/memory-stores.js';
import {
  describeCompleteAndResumeManyContract,
  describeParkOnNewJobContract,
  describeStoreContracts,
} from '../src/testing/index.js';

const factory = async () => ({ stores: createMemoryStores() });

describeStoreContracts('memory', factory);
describeParkOnNewJobContract('memory', factory);
describeCompleteAndResumeManyContract('memory', factory);
