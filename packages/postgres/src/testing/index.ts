export {
  type CreateTestDatabaseOptions,
  createTestDatabase,
  createTestPool,
  getTestServerContext,
  type TestDatabase,
  type TestServerContext,
  useTestDatabase,
} from './test-database.js';
export {
  type AcquireTestServerOptions,
  acquireTestServer,
  type TestServer,
  type TestServerKind,
} from './test-server.js';
