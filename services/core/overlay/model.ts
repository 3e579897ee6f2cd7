// The delay model of one hop of the push tree, shared by the planner (with measured RTTs) and the
// reference tree (with the scenario's true latencies), so the two are graded on the same physics.
//
// A parent p serves each release of the source to its children one after another, in priority
// order (largest subtree first); cut-through, so a child can relay a fragment as soon as it has it.
// The last byte of a chunk reaches the child at position i (0-based) of p
//     hop(p → v, i) = latency(p, v) + i · slotTime(p) + fragmentTime(p) + max(0, slotTime↓(v) − slotTime(p))
// where slotTime(p) = slotBytes / uplink(p) is one child's turn (a whole chunk when the source
// releases chunks at once, one release unit when it is frame-paced), fragmentTime(p) the last
// fragment's serialization on p's uplink (cut-through: it leaves once it has arrived), and
// slotTime↓(v) the same turn on v's downlink: a sender faster than the receiver's downlink has its
// bytes queue there (linkemu's DownlinkQueue), e.g. a 10 Gbit/s origin's burst to a 100 Mbit/s viewer.
// Exact when a release is one fragment (frame-paced) and the parent's uplink is idle when it
// arrives (capacity keeps it mostly idle); for whole-chunk releases it assumes the parent received
// the chunk at the pace its own parent's uplink sent it.

import { serializationMs } from '../linkmodel.js';

export interface HopModel {
  /** bytes of one child's turn on a parent's uplink: a chunk (segment) or one release unit (progressive) */
  slotBytes: number;
  /** bytes a relay forwards at once (cut-through), ≤ slotBytes */
  fragmentBytes: number;
}

/** What a stream plan says about release units (the field prod's frame pacing adds, when present). */
export interface StreamReleaseFacts {
  chunkBytes: number;
  fragmentBytes: number;
  /** bytes the broadcaster releases at once (plan.stream.releaseUnitBytes); absent = the whole chunk */
  releaseUnitBytes?: number;
}

/** The hop model of a stream: one child's turn is one release of the source. */
export function hopModelOf(stream: StreamReleaseFacts): HopModel {
  const slotBytes = Math.max(1, Math.min(stream.releaseUnitBytes ?? stream.chunkBytes, stream.chunkBytes));
  return { slotBytes, fragmentBytes: Math.max(1, Math.min(stream.fragmentBytes, slotBytes)) };
}

/** Serialization of `bytes` at `bps`, in ms: the link model's (the bound charges the same). */
export function transmitMs(bytes: number, bps: number): number {
  return serializationMs(bytes, bps);
}

/** Time (ms) from p holding a chunk's last byte to the child at `position` holding it, without propagation. */
export function queueingMs(
  model: HopModel,
  parentUplinkBps: number,
  childDownlinkBps: number,
  position: number,
): number {
  const slotUp = transmitMs(model.slotBytes, parentUplinkBps);
  const slotDown = Number.isFinite(childDownlinkBps) ? transmitMs(model.slotBytes, childDownlinkBps) : 0;
  return (
    Math.max(0, position) * slotUp + transmitMs(model.fragmentBytes, parentUplinkBps) + Math.max(0, slotDown - slotUp)
  );
}

/**
 * Children a peer can take: each costs bitrate × headroom of its uplink (the headroom leaves room
 * for probes and the repair traffic of a re-parent), and never more than `maxFanout`.
 */
export function childCapacity(
  uplinkBps: number,
  o: { bitrateBps: number; headroom: number; maxFanout: number },
): number {
  return Math.max(0, Math.min(o.maxFanout, Math.floor(uplinkBps / (o.bitrateBps * o.headroom))));
}
