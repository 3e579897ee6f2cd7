// Step 3: a fresh start. Every livepath pod of the release is replaced, the backend waits until the
// new ones are Ready (ready means streaming: the origin produces, the edges receive, the tracker
// knows the stream's clock, the peers have their viewers joined), then reads the one clock of the
// run: when chunk 0 began, as the tracker learnt it from the origin (tracker.clock.json).
import type { V1Pod } from '@kubernetes/client-node';
import { STREAM_CLOCK_FILE, StreamClockFile } from '../../../results/stream-clock.js';
import { LABEL, type Role } from './chart.js';
import { deletePod, isReady, sleep, waitForPods, waitingReason, type ClusterApi } from './cluster.js';
import { podRef, readResultFile } from './collect.js';
import { ForbiddenError, PodsNotReadyError, UnauthorizedError } from './errors.js';

export interface Expected {
  edges: number;
  hosts: number;
  peerPods: string[];
}

export async function freshStart(
  api: ClusterApi,
  ns: string,
  selector: string,
  expect: Expected,
  o: { readyTimeoutMs: number; signal?: AbortSignal; log: (l: string) => void },
): Promise<{ pods: Map<string, V1Pod>; replaced: Set<string> }> {
  const old = await api.call({ verb: 'list', resource: 'pods' }, () =>
    api.core.listNamespacedPod({ namespace: ns, labelSelector: selector }),
  );
  const replaced = new Set<string>();
  for (const p of old.items) {
    replaced.add(p.metadata!.uid!);
    await deletePod(api, ns, p, o.log);
  }
  const want: Record<Exclude<Role, 'peer'>, number> = { origin: 1, edge: expect.edges, tracker: 1 };
  const pods = await waitForPods(api, ns, selector, o.readyTimeoutMs, o.signal, o.log, (all) => {
    const fresh = [...all.values()].filter(
      (p) => !replaced.has(p.metadata?.uid ?? '') && !p.metadata?.deletionTimestamp,
    );
    const ready = (role: Role) => fresh.filter((p) => p.metadata?.labels?.[LABEL.role] === role && isReady(p)).length;
    const peersReady = expect.peerPods.filter((n) => fresh.some((p) => p.metadata?.name === n && isReady(p))).length;
    const n =
      Math.min(ready('origin'), want.origin) +
      Math.min(ready('edge'), want.edge) +
      Math.min(ready('tracker'), want.tracker) +
      peersReady;
    const total = want.origin + want.edge + want.tracker + expect.hosts;
    const waiting = fresh.filter((p) => !isReady(p)).map((p) => `${p.metadata?.name} ${waitingReason(p)}`);
    return {
      done: n === total,
      line: `kubernetes: ${n}/${total} pods ready (peers ${peersReady}/${expect.hosts})${waiting.length ? ` · waiting: ${waiting.slice(0, 3).join(', ')}${waiting.length > 3 ? ', …' : ''}` : ''}`,
    };
  });
  return { pods, replaced };
}

/** The stream's clock the (fresh) tracker publishes; it knows it once it is ready. */
export async function runClock(
  api: ClusterApi,
  ns: string,
  pods: Map<string, V1Pod>,
  o: { timeoutMs: number; signal?: AbortSignal; log: (l: string) => void },
): Promise<StreamClockFile> {
  const tracker = [...pods.values()].find((p) => p.metadata?.labels?.[LABEL.role] === 'tracker' && isReady(p));
  if (!tracker) throw new PodsNotReadyError('no ready tracker pod: the run has no stream clock');
  const ref = podRef(ns, tracker);
  const deadline = Date.now() + o.timeoutMs;
  let last = '';
  for (;;) {
    try {
      const text = await api.call({ verb: 'create', resource: 'pods/exec', name: ref.pod }, () =>
        readResultFile(api.exec, ref, STREAM_CLOCK_FILE),
      );
      const clock = StreamClockFile.parse(JSON.parse(text));
      o.log(
        `kubernetes: the run's clock: chunk 0 began ${new Date(clock.startUs / 1000).toISOString()} (tracker ${ref.pod})`,
      );
      return clock;
    } catch (e) {
      last = (e as Error).message;
      if (e instanceof ForbiddenError || e instanceof UnauthorizedError) throw e;
    }
    if (o.signal?.aborted || Date.now() > deadline)
      throw new PodsNotReadyError(`the tracker ${ref.pod} published no stream clock (${STREAM_CLOCK_FILE}): ${last}`);
    await sleep(1_000, o.signal);
  }
}
