export { cancelChannel, jobsChannel } from './channels.js';
export { createPgStores, type PgStores, type PgStoresOptions } from './create-pg-stores.js';
export {
  type EmbeddedPostgresOptions,
  type EmbeddedPostgresServer,
  startEmbeddedPostgres,
} from './embedded-postgres.js';
export { JobListener, type JobListenerEvents, type JobListenerOptions } from './job-listener.js';
export { isPgError, mapPgError } from './map-pg-error.js';
export { type MigrateOptions, type MigrateResult, migrate } from './migrate.js';
export { PgExecutionStore } from './pg-execution-store.js';
export { PgJobStore } from './pg-job-store.js';
export { PgNotifier, type PgNotifierOptions } from './pg-notifier.js';
export { PgScheduleStore } from './pg-schedule-store.js';
export {
  assertSchemaName,
  DEFAULT_SCHEMA,
  quoteIdent,
  SCHEMA_NAME_PATTERN,
} from './schema-name.js';
export { readServerVersion } from './server-version.js';
