import { createMemoryStores } from '../src/memory/memory-stores.js';
import { describeStoreContracts } from '../src/testing/index.js';

describeStoreContracts('memory', async () => ({ stores: createMemoryStores() }));
