/**
 * Node's arguments for the suite's workload and worker processes. FlowMonkey runs as its
 * compiled packages (`dist/`, what an installed package runs; `pnpm bench` builds them
 * first), selected by the `flowmonkey-compiled` export condition, as graphile-worker and
 * pg-boss run their published JavaScript; tsx compiles only the suite's own TypeScript.
 * Run from source through tsx, FlowMonkey would pay for esbuild's `__name` wrapper on
 * every closure it creates (about a tenth of the drain when measured; commit 96bde88).
 */
export const CHILD_NODE_ARGS = ['--conditions=flowmonkey-compiled', '--import', 'tsx'];
