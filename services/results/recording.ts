// Writes what one viewer received as a playable MPEG-TS file: whole chunks in seq order, starting
// at the first keyframe chunk (a late joiner cannot decode before one), plus an index of which seq
// sits at which byte offset so a test or `livepath play` can line it up with the origin's output.
import { createWriteStream, type WriteStream } from 'node:fs';
import { join } from 'node:path';

/** Chunks held back waiting for a missing seq before the recorder gives up on it (a lost chunk). */
export const RECORDER_REORDER_CHUNKS = 4;

export const RECORD_INDEX_HEADER = 'seq,offset,bytes,keyframe';

export interface RecordedChunk {
  seq: number;
  keyframe: boolean;
  payload: Buffer;
}

export class TsRecorder {
  private readonly ts: WriteStream;
  private readonly index: WriteStream;
  private readonly pending = new Map<number, RecordedChunk>();
  private next: number | undefined;
  private offset = 0;
  /** seqs written, in order */
  readonly written: number[] = [];
  /** seqs skipped because they never arrived */
  skipped = 0;
  closed = false;

  /** Records into `dir/<name>.ts` and `dir/<name>.index.csv`. */
  constructor(
    dir: string,
    readonly name: string,
  ) {
    this.ts = createWriteStream(join(dir, `${name}.ts`));
    this.index = createWriteStream(join(dir, `${name}.index.csv`));
    this.index.write(`${RECORD_INDEX_HEADER}\n`);
  }

  /** A complete chunk arrived (in any order). */
  chunk(c: RecordedChunk): void {
    if (this.closed) return;
    if (this.next === undefined) {
      // Start at a keyframe: everything before the first one is undecodable for this viewer.
      if (!c.keyframe) return;
      this.next = c.seq;
    }
    if (c.seq < this.next || this.pending.has(c.seq)) return;
    this.pending.set(c.seq, c);
    this.drain(false);
  }

  /** Writes what is pending (skipping gaps) and closes the files. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.drain(true);
    this.closed = true;
    const end = (s: WriteStream) => new Promise<void>((r) => s.end(r));
    return Promise.all([end(this.ts), end(this.index)]).then(() => undefined);
  }

  private drain(all: boolean): void {
    while (this.next !== undefined && this.pending.size > 0) {
      const c = this.pending.get(this.next);
      if (c) {
        this.write(c);
        this.pending.delete(this.next);
        this.next++;
        continue;
      }
      // A gap: wait a few chunks for it (a parent switch can reorder), then go on without it.
      if (!all && this.pending.size < RECORDER_REORDER_CHUNKS) return;
      const lowest = Math.min(...this.pending.keys());
      this.skipped += lowest - this.next;
      this.next = lowest;
    }
  }

  private write(c: RecordedChunk): void {
    this.ts.write(c.payload);
    this.index.write(`${c.seq},${this.offset},${c.payload.length},${c.keyframe ? 1 : 0}\n`);
    this.offset += c.payload.length;
    this.written.push(c.seq);
  }
}

/** Reads an index written by TsRecorder. */
export function parseRecordIndex(
  csv: string,
): Array<{ seq: number; offset: number; bytes: number; keyframe: boolean }> {
  return csv
    .split('\n')
    .slice(1)
    .filter(Boolean)
    .map((l) => {
      const [seq, offset, bytes, keyframe] = l.split(',').map(Number);
      return { seq: seq!, offset: offset!, bytes: bytes!, keyframe: keyframe === 1 };
    });
}
