export { type MigrateOptions, type MigrateResult, migrate } from './migrate.js';
export {
  assertSchemaName,
  DEFAULT_SCHEMA,
  quoteIdent,
  SCHEMA_NAME_PATTERN,
} from './schema-name.js';
