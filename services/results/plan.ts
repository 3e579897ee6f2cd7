// plan.json: the part of the run plan the report and later tools need (places, bounds, edges).
import type { RunPlan } from '../core/types.js';

export function planToJson(plan: RunPlan): object {
  const place = (id: string) => {
    const h = plan.hosts.get(id);
    return { id, lat: h?.lat, lon: h?.lon, region: h?.region };
  };
  return {
    scenario: plan.scenarioName,
    seed: plan.seed,
    kind: plan.kind,
    durationS: plan.durationS,
    stream: plan.stream,
    broadcaster: place(plan.broadcasterId),
    origin: place(plan.originId),
    edges: plan.edges.map((e) => ({ ...place(e.id), parentId: e.parentId })),
    viewers: plan.viewers.map((v) => ({
      ...place(v.id),
      edgeId: v.edgeId,
      boundMs: v.boundMs,
      boundPropagationMs: v.boundPropagationMs,
      boundSerializationMs: v.boundSerializationMs,
      joinAtS: v.joinAtS,
      leaveAtS: v.leaveAtS,
      leaveKind: v.leaveKind,
    })),
    churn: plan.churn,
    ...(plan.kind === 'graph' ? { links: graphLinks(plan) } : {}),
  };
}

function graphLinks(plan: RunPlan): Array<{ a: string; b: string; latencyMs: number }> {
  const links: Array<{ a: string; b: string; latencyMs: number }> = [];
  links.push({ a: plan.broadcasterId, b: plan.originId, latencyMs: plan.latencyMs(plan.broadcasterId, plan.originId) });
  for (const e of plan.edges) links.push({ a: e.parentId, b: e.id, latencyMs: plan.latencyMs(e.parentId, e.id) });
  for (const v of plan.viewers) links.push({ a: v.edgeId, b: v.id, latencyMs: plan.latencyMs(v.edgeId, v.id) });
  return links;
}
