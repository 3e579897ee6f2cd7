// Which viewers a `peers` process hosts: named ids, or slice n of viewersPerHost in plan order.
// One rule for every backend: the lab's local groups, a StatefulSet pod's ordinal, the probe.

import type { ViewerPlan } from './types.js';

export class ViewerSelectionError extends Error {}

export interface ViewerSelection {
  /** explicit viewer ids (wins over the slice) */
  viewers?: string[];
  viewerIndex?: number;
  viewersPerHost?: number;
}

/** The viewers in slices of `perHost`, in plan order: slice i is what host i serves. */
export function sliceViewers<V>(viewers: readonly V[], perHost: number): V[][] {
  const slices: V[][] = [];
  for (let i = 0; i < viewers.length; i += perHost) slices.push(viewers.slice(i, i + perHost));
  return slices;
}

export function selectViewers(all: ViewerPlan[], o: ViewerSelection): ViewerPlan[] {
  if (o.viewers && o.viewers.length > 0) {
    const byId = new Map(all.map((v) => [v.id, v]));
    return o.viewers.map((id) => {
      const v = byId.get(id);
      if (!v)
        throw new ViewerSelectionError(
          `--viewers: "${id}" is not a viewer of this scenario (e.g. ${all[0]?.id ?? 'none'})`,
        );
      return v;
    });
  }
  const per = o.viewersPerHost ?? all.length;
  const index = o.viewerIndex ?? 0;
  const slice = sliceViewers(all, per)[index] ?? [];
  if (slice.length === 0)
    throw new ViewerSelectionError(
      `--viewer-index ${index} × --viewers-per-host ${per} is past the scenario's ${all.length} viewers`,
    );
  return slice;
}
