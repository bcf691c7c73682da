import {
  describeCompleteAndResumeManyContract,
  describeParkOnNewJobContract,
  describeStoreContracts,
  type StoresFactory,
} from '@flowmonkey/core/testing';
import { createPgStores } from '../src/create-pg-stores.js';
import { useTestDatabase } from '../src/testing/index.js';
import { truncateAll } from './helpers.js';

const db = useTestDatabase();

const factory: StoresFactory = async () => {
  await truncateAll(db().pool);
  return { stores: createPgStores({ pool: db().pool, notify: false }) };
};

describeStoreContracts('postgres', factory);
describeParkOnNewJobContract('postgres', factory);
describeCompleteAndResumeManyContract('postgres', factory);
