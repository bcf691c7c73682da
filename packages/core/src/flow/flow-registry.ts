import { DuplicateError, NotFoundError } from '../errors.js';
import type { Flow } from '../flow.js';

/**
 * Flows by id and version. Several versions of one flow may be registered side by side, so
 * executions started on an old version keep running on it; a lookup without a version
 * returns the highest.
 */
export class FlowRegistry {
  readonly #flows = new Map<string, Map<number, Flow>>();

  /**
   * Adds `flow`. Registering the same flow object again is a no-op; another flow with the
   * same id and version throws `DuplicateError('flow', 'id@version')`.
   */
  register(flow: Flow): void {
    let versions = this.#flows.get(flow.id);
    if (versions === undefined) {
      versions = new Map();
      this.#flows.set(flow.id, versions);
    }
    const existing = versions.get(flow.version);
    if (existing === flow) return;
    if (existing !== undefined) throw new DuplicateError('flow', `${flow.id}@${flow.version}`);
    versions.set(flow.version, flow);
  }

  /**
   * Returns the flow `flowId` at `version`, or its highest version when omitted. Throws
   * `NotFoundError('flow', ...)` when there is none.
   */
  get(flowId: string, version?: number): Flow {
    const versions = this.#flows.get(flowId);
    if (version !== undefined) {
      const flow = versions?.get(version);
      if (flow === undefined) throw new NotFoundError('flow', `${flowId}@${version}`);
      return flow;
    }
    let latest: Flow | undefined;
    for (const flow of versions?.values() ?? []) {
      if (latest === undefined || flow.version > latest.version) latest = flow;
    }
    if (latest === undefined) throw new NotFoundError('flow', flowId);
    return latest;
  }

  /** Every registered flow, every version. */
  list(): Flow[] {
    return [...this.#flows.values()].flatMap((versions) => [...versions.values()]);
  }
}
