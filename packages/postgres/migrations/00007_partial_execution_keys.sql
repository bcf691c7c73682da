-- Executions without an idempotency key no longer enter the key's unique index. Never edit
-- once released: add a new numbered file instead. Applying it locks `executions` against
-- writes while the index is rebuilt (one scan of the table): on a large database, run it at
-- a quiet moment.

-- Two NULL keys never clash, so the index held those rows for nothing; yet every write of
-- an execution is a new row version (its status changes), and each version of each
-- execution entered it. Partial, like `jobs_idempotency_idx`: `create` and `createMany`
-- name the predicate in their ON CONFLICT target.
DROP INDEX executions_idempotency_idx;
CREATE UNIQUE INDEX executions_idempotency_idx ON executions (flow_id, idempotency_key)
  WHERE idempotency_key IS NOT NULL;
