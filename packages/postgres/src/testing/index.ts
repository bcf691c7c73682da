export { type FixtureOptions, insertExecution, insertJob } from './fixtures.js';
export {
  type CreateTestDatabaseOptions,
  type CreateTestPoolOptions,
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
  dockerEngineAnswers,
  type TestServer,
  type TestServerKind,
} from './test-server.js';
