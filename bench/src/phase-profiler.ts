import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';

/** What {@link profilePhase} returns: call `stop` when the phase ends. */
export interface PhaseProfile {
  /** Writes the profile and returns the bytes the heap profile sampled (0 for a CPU one). */
  stop: () => Promise<number>;
}

interface HeapNode {
  selfSize: number;
  children: HeapNode[];
}

/**
 * Profiles this process over one phase of a study, from V8's inspector, when asked by the
 * environment: `CPU_PROF=<file>` writes a CPU profile (open it in Chrome's DevTools or any
 * `.cpuprofile` viewer), `HEAP_PROF=<file>` a sampled allocation profile that counts the
 * collected objects too, so its total is what the phase allocated (about one sample per
 * 32 KiB). `undefined` when neither is set.
 */
export async function profilePhase(): Promise<PhaseProfile | undefined> {
  const heapFile = process.env.HEAP_PROF;
  const file = heapFile ?? process.env.CPU_PROF;
  if (file === undefined) return undefined;
  const session = new Session();
  session.connect();
  const post = (method: string, params?: object) =>
    new Promise<unknown>((resolve, reject) =>
      session.post(method, params, (error, result) => (error ? reject(error) : resolve(result))),
    );
  if (heapFile === undefined) {
    await post('Profiler.enable');
    await post('Profiler.start');
  } else {
    await post('HeapProfiler.enable');
    await post('HeapProfiler.startSampling', {
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
  }
  return {
    stop: async () => {
      const method = heapFile === undefined ? 'Profiler.stop' : 'HeapProfiler.stopSampling';
      const { profile } = (await post(method)) as { profile: { head?: HeapNode } };
      session.disconnect();
      writeFileSync(file, JSON.stringify(profile));
      return profile.head === undefined ? 0 : sampledBytes(profile.head);
    },
  };
}

function sampledBytes(node: HeapNode): number {
  return node.children.reduce((sum, child) => sum + sampledBytes(child), node.selfSize);
}
