-- Dead letters and retention. Never edit once released: add a new numbered file instead.

-- A redrive (a failed job put back to pending with fresh attempts) is recorded as its own
-- event kind; the constraint is replaced whole, listing every kind allowed so far.
ALTER TABLE job_events DROP CONSTRAINT job_events_kind_check;
ALTER TABLE job_events ADD CONSTRAINT job_events_kind_check CHECK (kind IN (
  'created', 'claimed', 'progress', 'retried', 'completed', 'failed', 'cancelled',
  'reset', 'released', 'redriven'
));

-- listDeadLetters: failed jobs, most recently failed first (redriveMany reads it backwards).
CREATE INDEX jobs_dead_letter_idx ON jobs (finished_at DESC, id DESC) WHERE status = 'failed';
-- pruneFinished: finished jobs by age.
CREATE INDEX jobs_finished_idx ON jobs (finished_at, id)
  WHERE status IN ('completed', 'failed', 'cancelled');
