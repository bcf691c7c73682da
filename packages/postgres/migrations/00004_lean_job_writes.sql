-- Fewer index writes per job, and fences that cannot be planned as scans. Never edit once
-- released: add a new numbered file instead. Measured in docs/postgres-indexes.md.
-- Applying it locks `jobs` and `job_events` against writes while the constraint is checked
-- and the indexes are built (one scan of each table): on a large database, run it at a
-- quiet moment.

-- A job holds a lease exactly while it runs (every way out of `running` clears it). With
-- that enforced, a write fenced by `id AND lease_id` needs no `status = 'running'` as well:
-- that condition led the planner, whose statistics rarely see running rows, to scan every
-- running job (or the whole table) for what is a primary-key lookup.
ALTER TABLE jobs DROP CONSTRAINT jobs_running_has_lease;
ALTER TABLE jobs ADD CONSTRAINT jobs_lease_iff_running
  CHECK ((status = 'running') = (lease_id IS NOT NULL));

-- Every row version of a job entered this index (each status change is a new version);
-- listByStatus now reads the per-status partial indexes instead, and only pending jobs get
-- one of their own.
DROP INDEX jobs_status_created_idx;
CREATE INDEX jobs_pending_created_idx ON jobs (created_at, id) WHERE status = 'pending';

-- The stall scan keyed on heartbeat_at made every heartbeat a non-HOT update (a new entry
-- in every index of jobs). Keyed on started_at, which a heartbeat does not change,
-- heartbeats and progress become HOT updates; the reaper filters heartbeat_at over the
-- running jobs, which are few (at most the runners' slots and prefetch buffers).
DROP INDEX jobs_stalled_idx;
CREATE INDEX jobs_running_idx ON jobs (started_at, id) WHERE status = 'running';

-- Events are read and pruned by job only: one index, (job_id, id), instead of two.
ALTER TABLE job_events DROP CONSTRAINT job_events_pkey;
DROP INDEX job_events_job_idx;
ALTER TABLE job_events ADD PRIMARY KEY (job_id, id);
