/**
 * FlowMonkey's runner settings in the bench, for plain jobs and the workflow alike: jobs
 * claimed per round trip (the most a store claims at once) and held beyond the free slots.
 * Its best drain settings in the settings sweep (bench/HISTORY.md, "Peers at their best
 * settings"), a buffer as large as graphile-worker's local queue of 5,000.
 * BENCH_FM_BATCH and BENCH_FM_PREFETCH override them, for a sweep.
 */
export const BATCH = Number(process.env.BENCH_FM_BATCH ?? 1000);
export const PREFETCH = Number(process.env.BENCH_FM_PREFETCH ?? 5000);
