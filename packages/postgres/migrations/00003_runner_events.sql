-- Runner-observed job events. Never edit once released: add a new numbered file instead.

-- A runner records when it started a handler, when it aborted one for its time limit, and
-- when it found its lease lost (JobStore.recordEvents); the constraint is replaced whole,
-- listing every kind allowed so far.
ALTER TABLE job_events DROP CONSTRAINT job_events_kind_check;
ALTER TABLE job_events ADD CONSTRAINT job_events_kind_check CHECK (kind IN (
  'created', 'claimed', 'progress', 'retried', 'completed', 'failed', 'cancelled',
  'reset', 'released', 'redriven', 'started', 'timeout', 'lease-lost'
));
