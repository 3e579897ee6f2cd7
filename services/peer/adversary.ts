// Adversarial viewers for a scenario's `adversaries:` (fault injection): from their start time on,
// they keep their children but send them tampered fragments (tamper), fragments of chunks older
// than any relay keeps (replay), nothing (withhold), or everything over an uplink of 10 % of the
// stream's bitrate (trickle). Signatures catch the first two; delivery catches the others.
import type { Chunk } from '../gen/livepath/v1/chunk.js';
import type { AdversaryKind } from '../core/types.js';
import { fragmentLength, wireBytes } from '../core/chunks.js';
import { KEEP_CHUNKS } from '../relay/constants.js';

/** A trickling adversary sends at this share of the stream's bitrate. */
export const TRICKLE_SHARE = 0.1;
/** A replaying adversary sends the fragment of the chunk this many chunks older than the live one. */
export const REPLAY_LAG_CHUNKS = KEEP_CHUNKS + 2;

export interface AdversaryInit {
  kind: AdversaryKind;
  /** when it turns (µs on the process clock) */
  fromUs: number;
  bitrateBps: number;
}

/** What a counting adversary did: copies it rewrote or withheld (the report's "what it tried"). */
export interface AdversaryTally {
  tampered: number;
  replayed: number;
  withheld: number;
  trickled: number;
}

/** The node's `misbehave` hook for one adversary. */
export function adversaryHook(
  init: AdversaryInit,
  nowUs: () => number,
  tally: AdversaryTally,
): (out: Chunk, childId: string) => Chunk | undefined {
  /** replay: every copy sent, by seq, kept REPLAY_LAG_CHUNKS + 1 chunks */
  const archive = new Map<number, Chunk[]>();
  /** trickle: when each child's slow uplink is free again (µs) */
  const freeAtUs = new Map<string, number>();
  return (out, childId) => {
    if (init.kind === 'replay') {
      let copies = archive.get(out.seq);
      if (!copies) {
        copies = [];
        archive.set(out.seq, copies);
        for (const s of archive.keys()) if (s < out.seq - REPLAY_LAG_CHUNKS) archive.delete(s);
      }
      if (!copies.some((c) => c.offset === out.offset)) copies.push(out);
    }
    if (nowUs() < init.fromUs) return out;
    switch (init.kind) {
      case 'tamper': {
        tally.tampered++;
        // Bytes changed, signature kept: what a relay injecting its own content would send.
        if (out.payload.length > 0) {
          const payload = Buffer.from(out.payload);
          payload[0] = payload[0]! ^ 0xff;
          return { ...out, payload };
        }
        return { ...out, producedAtUs: out.producedAtUs + 1 };
      }
      case 'replay': {
        const old = archive.get(out.seq - REPLAY_LAG_CHUNKS)?.find((c) => c.offset === out.offset);
        if (!old) return undefined; // nothing that old yet: it sends nothing rather than the truth
        tally.replayed++;
        return { ...old, hops: out.hops, sentAtUs: out.sentAtUs, senderId: out.senderId };
      }
      case 'withhold':
        tally.withheld++;
        return undefined;
      case 'trickle': {
        tally.trickled++;
        const bytes = wireBytes(fragmentLength(out));
        const startUs = Math.max(freeAtUs.get(childId) ?? 0, out.sentAtUs);
        const sentAtUs = startUs + (bytes * 8 * 1e6) / (init.bitrateBps * TRICKLE_SHARE);
        freeAtUs.set(childId, sentAtUs);
        return { ...out, sentAtUs };
      }
    }
  };
}
