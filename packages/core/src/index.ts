export * from './assert-execution.js';
export {
  assertJsonPayload,
  DEFAULT_MAX_PAYLOAD_BYTES,
  type JsonPayloadOptions,
  MAX_PAYLOAD_DEPTH,
} from './assert-json-payload.js';
export * from './clock.js';
export * from './engine/engine.js';
export type * from './engine/engine-types.js';
export * from './errors.js';
export * from './events.js';
export type * from './execution.js';
export { TERMINAL_EXECUTION_STATUSES } from './execution.js';
export * from './execution-as-stored.js';
export * from './execution-store-checks.js';
export * from './flow/check-flow-handlers.js';
export * from './flow/define-flow.js';
export * from './flow/flow-registry.js';
export { selectInput } from './flow/select-input.js';
export type * from './flow.js';
export * from './group-queue.js';
export type * from './handler.js';
export * from './handler-registry.js';
export * from './ids.js';
export * from './job.js';
export * from './job-store-checks.js';
export * from './logger.js';
export * from './memory/memory-execution-store.js';
export * from './memory/memory-job-store.js';
export * from './memory/memory-schedule-store.js';
export type {
  MemoryLeadershipRow,
  MemoryState,
  MemoryStoreContext,
} from './memory/memory-state.js';
export * from './memory/memory-stores.js';
export * from './new-job-as-stored.js';
export * from './result.js';
export type * from './retry-policy.js';
export type * from './schedule.js';
export type * from './stores/execution-store.js';
export type * from './stores/job-store.js';
export type * from './stores/schedule-store.js';
export type * from './stores/stores.js';
export * from './validation.js';
