// How a broadcaster releases a chunk's bytes (sans-IO): the schedule of release units of a
// synthetic broadcast. Frame-paced (`progressive`): a chunk of duration D is made as n release
// units (frames at the stream's frame rate, or fragments), unit j due at the chunk's start +
// (j + 1)·D/n, the way an encoder emits frames; `segment`: one unit, the whole chunk, at its end.
// Callers pass the broadcast's start; nothing here reads a clock or arms a timer.
import type { StreamPlan } from './types.js';

/** One release unit of a chunk: the bytes [offset, offset + bytes) become available at `atUs`. */
export interface Release {
  seq: number;
  /** index of the unit in its chunk, 0 … releasesPerChunk − 1 */
  index: number;
  atUs: number;
  offset: number;
  bytes: number;
  /** the chunk's last unit: the chunk is produced (its last byte made) when it is released */
  last: boolean;
}

/**
 * The release units of chunk `seq` of a broadcast whose chunk 0 began at `startUs`. Bytes are
 * spread evenly (they differ by at most one), so the units tile the chunk exactly.
 */
export function chunkReleases(
  stream: Pick<StreamPlan, 'chunkDurationUs' | 'chunkBytes' | 'releasesPerChunk'>,
  seq: number,
  startUs: number,
): Release[] {
  const n = Math.max(1, stream.releasesPerChunk);
  const chunkStartUs = startUs + seq * stream.chunkDurationUs;
  const releases: Release[] = [];
  for (let j = 0; j < n; j++) {
    const offset = Math.floor((j * stream.chunkBytes) / n);
    const end = Math.floor(((j + 1) * stream.chunkBytes) / n);
    releases.push({
      seq,
      index: j,
      atUs: chunkStartUs + Math.round(((j + 1) * stream.chunkDurationUs) / n),
      offset,
      bytes: end - offset,
      last: j === n - 1,
    });
  }
  return releases;
}
