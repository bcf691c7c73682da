-- Column guards as domains instead of table CHECK constraints, on the tables every job and
-- execution writes. Never edit once released: add a new numbered file instead.
--
-- The guards stay the same; where they are kept changes. PostgreSQL rebuilds a table's
-- CHECK constraints from their stored text for every statement that writes a row (parsed
-- and planned again, 2-3 us each), and an UPDATE evaluates all of them whatever columns
-- it sets: for a one-row write, the 13 column checks on `jobs` cost more than the row's
-- insert. A domain's check is prepared once per connection and runs only for the columns
-- a statement writes. (pgbench, one-row job inserts, PostgreSQL 15: 6,100-7,400 inserts/s
-- with the table checks, 7,100-8,900 with the same checks as domains, 7,500-9,600 with no
-- length checks at all; measured in bench/RESULTS.md.)
--
-- `status`, `kind` and the lease rule stay table constraints: `status` is in the partial
-- indexes' predicates, and the lease rule spans two columns. The schedule, runner and
-- leader tables are written a few times a minute and keep their checks.
--
-- The domains are created without their checks, so that changing a column's type to one
-- rewrites no table; PostgreSQL keeps the plain indexes as they are and rebuilds the
-- partial ones over a changed column (the pending jobs' claim index, the idempotency-key
-- and execution indexes of `jobs`, two of `executions`), locking writers out meanwhile: on
-- a large database, run it at a quiet moment. The checks are then added NOT VALID: every
-- stored value already passed the identical table check dropped here, so scanning the
-- tables again would prove nothing. New and updated values are checked as before.

CREATE DOMAIN short_text AS text;
CREATE DOMAIN queue_name AS text;
CREATE DOMAIN message_text AS text;
CREATE DOMAIN job_priority AS integer;
CREATE DOMAIN non_negative_int AS integer;
CREATE DOMAIN positive_int AS integer;
CREATE DOMAIN positive_bigint AS bigint;
CREATE DOMAIN percent AS real;

ALTER TABLE jobs
  DROP CONSTRAINT jobs_queue_check,
  DROP CONSTRAINT jobs_handler_check,
  DROP CONSTRAINT jobs_execution_id_check,
  DROP CONSTRAINT jobs_step_id_check,
  DROP CONSTRAINT jobs_priority_check,
  DROP CONSTRAINT jobs_attempts_check,
  DROP CONSTRAINT jobs_max_attempts_check,
  DROP CONSTRAINT jobs_timeout_ms_check,
  DROP CONSTRAINT jobs_runner_id_check,
  DROP CONSTRAINT jobs_progress_percent_check,
  DROP CONSTRAINT jobs_progress_message_check,
  DROP CONSTRAINT jobs_idempotency_key_check,
  DROP CONSTRAINT jobs_correlation_id_check,
  ALTER COLUMN queue TYPE queue_name,
  ALTER COLUMN handler TYPE short_text,
  ALTER COLUMN execution_id TYPE short_text,
  ALTER COLUMN step_id TYPE short_text,
  ALTER COLUMN priority TYPE job_priority,
  ALTER COLUMN attempts TYPE non_negative_int,
  ALTER COLUMN max_attempts TYPE positive_int,
  ALTER COLUMN timeout_ms TYPE positive_bigint,
  ALTER COLUMN runner_id TYPE short_text,
  ALTER COLUMN progress_percent TYPE percent,
  ALTER COLUMN progress_message TYPE message_text,
  ALTER COLUMN idempotency_key TYPE short_text,
  ALTER COLUMN correlation_id TYPE short_text;

ALTER TABLE executions
  DROP CONSTRAINT executions_id_check,
  DROP CONSTRAINT executions_flow_id_check,
  DROP CONSTRAINT executions_flow_version_check,
  DROP CONSTRAINT executions_current_step_id_check,
  DROP CONSTRAINT executions_step_count_check,
  DROP CONSTRAINT executions_idempotency_key_check,
  DROP CONSTRAINT executions_tenant_id_check,
  DROP CONSTRAINT executions_parent_execution_id_check,
  DROP CONSTRAINT executions_version_check,
  ALTER COLUMN id TYPE short_text,
  ALTER COLUMN flow_id TYPE short_text,
  ALTER COLUMN flow_version TYPE non_negative_int,
  ALTER COLUMN current_step_id TYPE short_text,
  ALTER COLUMN step_count TYPE non_negative_int,
  ALTER COLUMN idempotency_key TYPE short_text,
  ALTER COLUMN tenant_id TYPE short_text,
  ALTER COLUMN parent_execution_id TYPE short_text,
  ALTER COLUMN version TYPE non_negative_int;

ALTER TABLE job_events
  DROP CONSTRAINT job_events_attempt_check,
  ALTER COLUMN attempt TYPE non_negative_int;

ALTER DOMAIN short_text ADD CONSTRAINT short_text_length
  CHECK (length(VALUE) BETWEEN 1 AND 255) NOT VALID;
ALTER DOMAIN queue_name ADD CONSTRAINT queue_name_length
  CHECK (length(VALUE) BETWEEN 1 AND 128) NOT VALID;
ALTER DOMAIN message_text ADD CONSTRAINT message_text_length
  CHECK (length(VALUE) <= 2000) NOT VALID;
ALTER DOMAIN job_priority ADD CONSTRAINT job_priority_range
  CHECK (VALUE BETWEEN -1000 AND 1000) NOT VALID;
ALTER DOMAIN non_negative_int ADD CONSTRAINT non_negative_int_range
  CHECK (VALUE >= 0) NOT VALID;
ALTER DOMAIN positive_int ADD CONSTRAINT positive_int_range
  CHECK (VALUE > 0) NOT VALID;
ALTER DOMAIN positive_bigint ADD CONSTRAINT positive_bigint_range
  CHECK (VALUE > 0) NOT VALID;
ALTER DOMAIN percent ADD CONSTRAINT percent_range
  CHECK (VALUE BETWEEN 0 AND 100) NOT VALID;
