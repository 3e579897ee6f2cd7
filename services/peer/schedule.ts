// When each viewer of a host is present, on the stream's clock (seconds since chunk 0 began). A
// lab run is one pass of the scenario. A deployment (standalone) runs the scenario's schedule
// again every durationS, so that viewers who left come back and the audience does not drain
// away: joins, leaves and rejoins fall at the same stream times on every pod, whenever the pod
// (re)started — a pod that starts late joins at once the viewers that should be present.
import type { ViewerPlan } from '../core/types.js';

export interface Presence {
  present: boolean;
  /** stream time (s) of the next change, if any */
  nextS: number | undefined;
}

/**
 * Whether viewer `v` is present at stream time `tS`. With `periodS` (a deployment) a viewer that
 * leaves rejoins at its join time of the next period; one that never leaves stays.
 */
export function presenceAt(v: Pick<ViewerPlan, 'joinAtS' | 'leaveAtS'>, tS: number, periodS?: number): Presence {
  const join = v.joinAtS;
  const leave = v.leaveAtS;
  const once = (): Presence => {
    if (tS < join) return { present: false, nextS: join };
    if (leave === undefined) return { present: true, nextS: undefined };
    return tS < leave ? { present: true, nextS: leave } : { present: false, nextS: undefined };
  };
  if (periodS === undefined || !Number.isFinite(periodS) || periodS <= 0 || leave === undefined || leave <= join)
    return once();
  const cycle = Math.floor(tS / periodS);
  const base = cycle * periodS;
  const u = tS - base;
  if (u < join) return { present: false, nextS: base + join };
  if (u < leave) return { present: true, nextS: base + leave };
  return { present: false, nextS: base + periodS + join };
}
