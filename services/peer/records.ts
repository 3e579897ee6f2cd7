// Per-chunk records of the viewers hosted by one process, appended to a CSV as they happen so a
// crash loses at most the last flush. The lab merges every process's file into chunks.csv.
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

export class CsvAppender {
  private readonly out: WriteStream;

  constructor(path: string, header: string) {
    this.out = createWriteStream(path, { flags: 'w' });
    this.out.write(header + '\n');
  }

  row(fields: Array<string | number>): void {
    this.out.write(fields.map(csvField).join(',') + '\n');
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.out.end(resolve));
  }
}

export function chunkRow(r: ChunkRecord): Array<string | number> {
  return [r.viewer, r.seq, r.producedAtUs, r.receivedAtUs, r.delayMs.toFixed(3), r.boundMs.toFixed(3), r.path, r.hops, r.parent];
}

function csvField(v: string | number): string {
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
