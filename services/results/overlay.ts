// overlay.json: each viewer's parent at the end of a run and every re-parent on the way, written
// by the lab from events.csv and read by the report's overlay map.
import { z } from 'zod';

export const overlaySchema = z.object({
  parents: z.array(
    z.object({
      viewer: z.string().min(1),
      parent: z.string().min(1),
      path: z.enum(['cdn', 'peer']),
    }),
  ),
  changes: z.array(
    z.object({
      atUs: z.number(),
      viewer: z.string(),
      from: z.string().nullish(),
      to: z.string().nullish(),
      reason: z.string(),
    }),
  ),
});

export type Overlay = z.infer<typeof overlaySchema>;
