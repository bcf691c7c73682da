-- FlowMonkey initial schema. Runs with search_path set to the target schema, so every
-- name here is unqualified and lands in that schema. Never edit once released: add a
-- new numbered file instead.

-- Execution ids are text (core accepts any id up to 255 characters); job ids are UUIDs.
CREATE TABLE executions (
  id text PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 255),
  flow_id text NOT NULL CHECK (length(flow_id) BETWEEN 1 AND 255),
  flow_version integer NOT NULL CHECK (flow_version >= 0),
  status text NOT NULL
    CHECK (status IN ('pending', 'running', 'waiting', 'completed', 'failed', 'cancelled')),
  current_step_id text CHECK (length(current_step_id) BETWEEN 1 AND 255),
  input jsonb,
  context jsonb NOT NULL DEFAULT '{}'::jsonb,
  output jsonb,
  error jsonb,
  history jsonb NOT NULL DEFAULT '[]'::jsonb,
  step_count integer NOT NULL DEFAULT 0 CHECK (step_count >= 0),
  waiting_on jsonb,
  wake_at timestamptz,
  idempotency_key text CHECK (length(idempotency_key) BETWEEN 1 AND 255),
  tenant_id text CHECK (length(tenant_id) BETWEEN 1 AND 255),
  parent_execution_id text CHECK (length(parent_execution_id) BETWEEN 1 AND 255),
  version integer NOT NULL DEFAULT 0 CHECK (version >= 0),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Starting a flow twice with one key returns the first execution (NULL keys never clash).
CREATE UNIQUE INDEX executions_idempotency_idx ON executions (flow_id, idempotency_key);
-- listDueWakeups: waiting executions with a timed wait, oldest due first.
CREATE INDEX executions_wake_idx ON executions (wake_at, id)
  WHERE status = 'waiting' AND wake_at IS NOT NULL;
-- list: newest first, optionally by status / flow / tenant.
CREATE INDEX executions_created_idx ON executions (created_at DESC, id DESC);
CREATE INDEX executions_status_idx ON executions (status, created_at DESC);
CREATE INDEX executions_flow_idx ON executions (flow_id, created_at DESC);
CREATE INDEX executions_tenant_idx ON executions (tenant_id, created_at DESC)
  WHERE tenant_id IS NOT NULL;

CREATE TABLE jobs (
  id uuid PRIMARY KEY,
  queue text NOT NULL DEFAULT 'default' CHECK (length(queue) BETWEEN 1 AND 128),
  handler text NOT NULL CHECK (length(handler) BETWEEN 1 AND 255),
  execution_id text CHECK (length(execution_id) BETWEEN 1 AND 255),
  step_id text CHECK (length(step_id) BETWEEN 1 AND 255),
  status text NOT NULL DEFAULT 'pending'
    CHECK (status IN ('pending', 'running', 'completed', 'failed', 'cancelled')),
  input jsonb,
  result jsonb,
  error jsonb,
  priority integer NOT NULL DEFAULT 0 CHECK (priority BETWEEN -1000 AND 1000),
  run_at timestamptz NOT NULL DEFAULT now(),
  attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  max_attempts integer NOT NULL DEFAULT 3 CHECK (max_attempts > 0),
  timeout_ms bigint CHECK (timeout_ms > 0),
  retry jsonb,
  lease_id uuid,
  runner_id text CHECK (length(runner_id) BETWEEN 1 AND 255),
  heartbeat_at timestamptz,
  progress_percent real CHECK (progress_percent BETWEEN 0 AND 100),
  progress_message text CHECK (length(progress_message) <= 2000),
  progress_at timestamptz,
  idempotency_key text CHECK (length(idempotency_key) BETWEEN 1 AND 255),
  correlation_id text CHECK (length(correlation_id) BETWEEN 1 AND 255),
  cancel_requested boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  started_at timestamptz,
  finished_at timestamptz,
  -- A running job always has a holder to fence its writes.
  CONSTRAINT jobs_running_has_lease CHECK (status <> 'running' OR lease_id IS NOT NULL)
);

-- The claim query, exactly: due pending jobs in claim order. Only pending rows are in
-- it, so it stays small however many finished jobs the table keeps.
CREATE INDEX jobs_claim_idx ON jobs (priority DESC, run_at, id) WHERE status = 'pending';
-- The reaper's stall scan: running jobs by heartbeat age.
CREATE INDEX jobs_stalled_idx ON jobs (heartbeat_at) WHERE status = 'running';
-- One job per idempotency key.
CREATE UNIQUE INDEX jobs_idempotency_idx ON jobs (idempotency_key)
  WHERE idempotency_key IS NOT NULL;
-- getByExecution.
CREATE INDEX jobs_execution_idx ON jobs (execution_id, created_at)
  WHERE execution_id IS NOT NULL;
-- listByStatus: oldest first within a status.
CREATE INDEX jobs_status_created_idx ON jobs (status, created_at, id);

-- Append-only lifecycle history. No foreign key, to keep appends cheap; pruning a job
-- deletes its events by job_id.
CREATE TABLE job_events (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  job_id uuid NOT NULL,
  kind text NOT NULL CHECK (kind IN (
    'created', 'claimed', 'progress', 'retried', 'completed', 'failed', 'cancelled',
    'reset', 'released'
  )),
  attempt integer NOT NULL CHECK (attempt >= 0),
  lease_id uuid,
  data jsonb,
  at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX job_events_job_idx ON job_events (job_id, id);

CREATE TABLE schedules (
  name text PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 255),
  cron text NOT NULL CHECK (length(cron) BETWEEN 1 AND 255),
  timezone text NOT NULL DEFAULT 'UTC' CHECK (length(timezone) BETWEEN 1 AND 64),
  handler text NOT NULL CHECK (length(handler) BETWEEN 1 AND 255),
  queue text NOT NULL DEFAULT 'default' CHECK (length(queue) BETWEEN 1 AND 128),
  input jsonb,
  priority integer NOT NULL DEFAULT 0 CHECK (priority BETWEEN -1000 AND 1000),
  max_attempts integer NOT NULL DEFAULT 3 CHECK (max_attempts > 0),
  enabled boolean NOT NULL DEFAULT true,
  overlap text NOT NULL DEFAULT 'allow' CHECK (overlap IN ('allow', 'skip')),
  last_fire_at timestamptz,
  next_fire_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX schedules_next_fire_idx ON schedules (next_fire_at) WHERE enabled;

-- One row per recorded tick: the primary key is what makes any number of schedulers safe.
CREATE TABLE schedule_fires (
  schedule_name text NOT NULL CHECK (length(schedule_name) BETWEEN 1 AND 255),
  fire_at timestamptz NOT NULL,
  job_id uuid NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (schedule_name, fire_at)
);

-- Registry of runner processes (for the dashboard and for diagnosing stalls).
CREATE TABLE runners (
  runner_id text PRIMARY KEY CHECK (length(runner_id) BETWEEN 1 AND 255),
  host text NOT NULL CHECK (length(host) BETWEEN 1 AND 255),
  pid integer NOT NULL CHECK (pid >= 0),
  queues text[],
  concurrency integer NOT NULL CHECK (concurrency > 0),
  started_at timestamptz NOT NULL DEFAULT now(),
  last_seen_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX runners_last_seen_idx ON runners (last_seen_at);

-- Leadership leases (one row per role, e.g. 'scheduler').
CREATE TABLE leader_leases (
  name text PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 100),
  holder_id text NOT NULL CHECK (length(holder_id) BETWEEN 1 AND 255),
  term bigint NOT NULL CHECK (term > 0),
  acquired_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL
);
