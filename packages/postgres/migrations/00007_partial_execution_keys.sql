-- Executions without an idempotency key no longer enter the key's unique index. Never edit
-- once released: add a new numbered file instead. Applying it locks `executions` against
-- reads and writes (DROP INDEX takes an ACCESS EXCLUSIVE lock, held until the migration
-- commits) while the index is rebuilt (one scan of the table): on a large database, run it
-- at a quiet moment. Processes of a release before it fail to create executions once it
-- has run (their ON CONFLICT target names no predicate, and no index matches it any
-- more), so deploy this release first and migrate after: its statements work with the
-- index as it was.

-- Two NULL keys never clash, so the index held those rows for nothing; yet every write of
-- an execution is a new row version (its status changes), and each version of each
-- execution entered it. Partial, like `jobs_idempotency_idx`: `create` and `createMany`
-- name the predicate in their ON CONFLICT target.
DROP INDEX executions_idempotency_idx;
CREATE UNIQUE INDEX executions_idempotency_idx ON executions (flow_id, idempotency_key)
  WHERE idempotency_key IS NOT NULL;
