// Step 4: churn. At each `kill` time of the scenario (on the run's clock) the peers pods hosting
// most of the killed viewers are deleted; their records are copied out first (an emptyDir dies
// with its pod), and the StatefulSet's replacement joins only the viewers the scenario has present
// by then (services/peer/schedule.ts), not its whole slice again.
import type { V1Pod } from '@kubernetes/client-node';
import type { RunPlan } from '../../../core/types.js';
import { deletePod, sleep, type ClusterApi } from './cluster.js';
import { collectPod } from './collect.js';

/** Which peer pods a kill event of the scenario deletes: the hosts of most of its killed viewers. */
export function churnPodKills(plan: RunPlan, viewersPerHost: number): Array<{ atS: number; hosts: number[] }> {
  const index = new Map(plan.viewers.map((v, i) => [v.id, i]));
  const byTime = new Map<number, string[]>();
  for (const c of plan.churn) if (c.kind === 'kill') byTime.set(c.atS, [...(byTime.get(c.atS) ?? []), c.viewerId]);
  return [...byTime]
    .sort((a, b) => a[0] - b[0])
    .map(([atS, ids]) => {
      const perHost = new Map<number, number>();
      for (const id of ids) {
        const h = Math.floor((index.get(id) ?? 0) / viewersPerHost);
        perHost.set(h, (perHost.get(h) ?? 0) + 1);
      }
      const n = Math.max(1, Math.ceil(ids.length / viewersPerHost));
      const hosts = [...perHost]
        .sort((a, b) => b[1] - a[1] || a[0] - b[0])
        .slice(0, n)
        .map(([h]) => h)
        .sort((a, b) => a - b);
      return { atS, hosts };
    });
}

/** Name under which a peers pod's records are kept: its name, then -r1, -r2 … for replacements. */
export function procName(pod: string, generation: number): string {
  return generation === 0 ? pod : `${pod}-r${generation}`;
}

export async function playChurn(
  api: ClusterApi,
  ns: string,
  run: { plan: RunPlan; perHost: number; peerPods: string[]; startUs: number; rawDir: string },
  pods: Map<string, V1Pod>,
  generation: Map<string, number>,
  o: { signal?: AbortSignal; log: (l: string) => void },
): Promise<void> {
  for (const kill of churnPodKills(run.plan, run.perHost)) {
    const lateS = (Date.now() - (run.startUs / 1000 + kill.atS * 1000)) / 1000;
    if (lateS > 1)
      o.log(
        `kubernetes: churn at ${kill.atS} s comes ${lateS.toFixed(1)} s late: the pods were ready only then (a scenario's churn should leave the pods time to start)`,
      );
    await sleep(run.startUs / 1000 + kill.atS * 1000 - Date.now(), o.signal);
    if (o.signal?.aborted) return;
    for (const h of kill.hosts) {
      const name = run.peerPods[h];
      const pod = name && pods.get(name);
      if (!pod) continue;
      const gen = generation.get(name) ?? 0;
      await collectPod(api, ns, pod, procName(name, gen), run.rawDir, o.log);
      generation.set(name, gen + 1);
      o.log(
        `kubernetes: churn at ${kill.atS} s: deleting ${name} (its viewers vanish; the StatefulSet starts a new one)`,
      );
      await deletePod(api, ns, pod, o.log, 0);
    }
  }
}
