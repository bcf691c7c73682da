/**
 * Messages from the coordinator to a worker process. `pause` stops a workflow worker's
 * runner after its warm-up and forgets what it ran; the next `go` starts it again.
 */
export type ToWorker = { type: 'go' } | { type: 'pause' } | { type: 'finish' };

/** Messages from a worker process to the coordinator. */
export type FromWorker =
  | { type: 'ready' }
  /** Answer to `pause`: the runner has stopped and the counts start again from zero. */
  | { type: 'paused' }
  | { type: 'progress'; count: number; lastAt: number }
  | {
      type: 'final';
      /** Job index of every handler run, in order (a duplicate appears twice). */
      ids: number[];
      /** Enqueue-to-handler-start latencies in ms (latency workload). */
      latencies: number[];
      /** Wall-clock time of the first handler start, epoch ms (0: none). */
      firstAt: number;
      /** Wall-clock time of the last handler start, epoch ms. */
      lastAt: number;
      /**
       * CPU (user and system) this process used from its last `go` until `finish`, before
       * closing anything, ms.
       */
      cpuMs: number;
      peakRss: number;
      /** `[jobs run so far, rss bytes]` samples every 50 ms. */
      rss: [number, number][];
      /**
       * `[jobs run so far, heap bytes used after a full GC]` at 20 % and 100 % of
       * `BENCH_HEAP_AT` jobs (memory workload only; empty otherwise).
       */
      heap: [number, number][];
    };
