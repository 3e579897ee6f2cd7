// Per-chunk records of the viewers hosted by one process, appended to a CSV as they happen so a
// crash loses at most the last 200 ms. The lab merges every process's file into chunks.csv.
import { createWriteStream, type WriteStream } from 'node:fs';

export const CHUNK_CSV_HEADER = 'viewer,seq,producedAtUs,receivedAtUs,delayMs,boundMs,path,hops,parent';
export const EVENT_CSV_HEADER = 'atUs,kind,viewer,detail';

export interface ChunkRecord {
  viewer: string;
  seq: number;
  producedAtUs: number;
  receivedAtUs: number;
  delayMs: number;
  boundMs: number;
  path: 'cdn' | 'peer';
  hops: number;
  parent: string;
  /** size of the chunk (for delivered-bytes metrics; not written to the CSV) */
  bytes: number;
}

/** Rows are written in batches: a write per row cost more CPU than the rest of a viewer's work. */
const FLUSH_AFTER_MS = 200;
const FLUSH_AT_CHARS = 64 * 1024;

export class CsvAppender {
  private readonly out: WriteStream;
  private pending = '';
  private timer: NodeJS.Timeout | undefined;

  constructor(path: string, header: string) {
    this.out = createWriteStream(path, { flags: 'w' });
    this.out.write(`${header}\n`);
  }

  row(fields: Array<string | number>): void {
    this.pending += `${fields.map(csvField).join(',')}\n`;
    if (this.pending.length >= FLUSH_AT_CHARS) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), FLUSH_AFTER_MS);
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending === '') return;
    this.out.write(this.pending);
    this.pending = '';
  }

  close(): Promise<void> {
    this.flush();
    return new Promise((resolve) => this.out.end(resolve));
  }
}

export function chunkRow(r: ChunkRecord): Array<string | number> {
  return [
    r.viewer,
    r.seq,
    r.producedAtUs,
    r.receivedAtUs,
    r.delayMs.toFixed(3),
    r.boundMs.toFixed(3),
    r.path,
    r.hops,
    r.parent,
  ];
}

function csvField(v: string | number): string {
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
