// CSV as the results files use it: a batched appender for the services (a crash loses at most the
// last 200 ms), RFC 4180 quoting, and a streaming reader that finds columns by header name and
// names the file and line of any bad row. Which columns a file has is said by its own module.
import { createReadStream, createWriteStream, existsSync, statSync, type WriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { MalformedResultsFileError, MissingResultsFileError, ResultsError } from './errors.js';

export type CsvField = string | number;

/** Rows are written in batches: a write per row cost more CPU than the rest of a viewer's work. */
const FLUSH_AFTER_MS = 200;
const FLUSH_AT_CHARS = 64 * 1024;

export class CsvAppender {
  private readonly out: WriteStream;
  private pending = '';
  private timer: NodeJS.Timeout | undefined;

  /**
   * `append`: rows go after those already in the file (its header written only when it is new) —
   * a service restarted in place (a pod's container) keeps what it recorded before.
   */
  constructor(path: string, columns: readonly string[], o: { append?: boolean } = {}) {
    const fresh = !o.append || !existsSync(path) || statSync(path).size === 0;
    this.out = createWriteStream(path, { flags: o.append ? 'a' : 'w' });
    if (fresh) this.out.write(`${columns.join(',')}\n`);
  }

  row(fields: readonly CsvField[]): void {
    this.pending += csvLine(fields);
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

/** One CSV line, newline included. */
export function csvLine(fields: readonly CsvField[]): string {
  return `${fields.map(csvField).join(',')}\n`;
}

function csvField(v: CsvField): string {
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * Splits one CSV line (RFC 4180 quoting, no embedded newlines). Returns undefined when a quote
 * is not closed, so the caller can name the line.
 */
export function splitCsvLine(line: string): string[] | undefined {
  if (!line.includes('"')) return line.split(',');
  const fields: string[] = [];
  let field = '';
  let i = 0;
  let quoted = false;
  while (i < line.length) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        field += '"';
        i += 2;
        continue;
      }
      if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') {
      quoted = true;
    } else if (ch === ',') {
      fields.push(field);
      field = '';
    } else {
      field += ch;
    }
    i++;
  }
  if (quoted) return undefined;
  fields.push(field);
  return fields;
}

/** What is wrong with one row; the reader adds the file and line. */
export class RowProblem extends Error {}

export interface StreamCsvOptions {
  /**
   * Called instead of throwing when a row is malformed (the header must still be right): the raw
   * files of a crashed process may end in half a row, and what came before it is kept.
   */
  onMalformedRow?: (error: MalformedResultsFileError) => void;
}

/**
 * Streams a CSV file with a header line; calls onRow with the fields in `columns` order (extra
 * columns are ignored, order in the file is free) and the 1-based line number. onRow throws a
 * RowProblem for a bad row.
 */
export async function streamCsv(
  file: string,
  columns: readonly string[],
  onRow: (fields: string[], line: number) => void,
  options: StreamCsvOptions = {},
): Promise<void> {
  const fileStat = await stat(file).catch(() => undefined);
  if (fileStat === undefined) throw missingFileError(file);
  if (!fileStat.isFile()) throw new ResultsError(file, 'is not a file');
  const input = createReadStream(file, { encoding: 'utf8' });
  let streamError: unknown;
  input.on('error', (err) => {
    streamError = err;
  });
  const lines = createInterface({ input, crlfDelay: Infinity });
  let lineNo = 0;
  let columnIndex: number[] | undefined;
  let identity = false;
  let headerWidth = 0;
  const rowError = (problem: string) => {
    const error = new MalformedResultsFileError(file, problem, lineNo);
    if (options.onMalformedRow === undefined) throw error;
    options.onMalformedRow(error);
  };
  try {
    for await (const rawLine of lines) {
      lineNo++;
      const line = lineNo === 1 ? rawLine.replace(/^\uFEFF/, '') : rawLine;
      if (columnIndex === undefined) {
        const header = (splitCsvLine(line) ?? []).map((h) => h.trim());
        const missing = columns.filter((c) => !header.includes(c));
        if (missing.length > 0) {
          throw new MalformedResultsFileError(
            file,
            `header lacks column${missing.length > 1 ? 's' : ''} ${missing.join(', ')} ` +
              `(expected ${columns.join(',')}; found ${line.slice(0, 200) || 'an empty line'})`,
            lineNo,
          );
        }
        columnIndex = columns.map((c) => header.indexOf(c));
        identity = columnIndex.every((idx, i) => idx === i) && header.length === columns.length;
        headerWidth = header.length;
        continue;
      }
      if (line.trim() === '') continue;
      const fields = splitCsvLine(line);
      if (fields === undefined) {
        rowError('unclosed quote (fields may not span lines)');
        continue;
      }
      if (fields.length !== headerWidth) {
        rowError(`expected ${headerWidth} fields like the header, found ${fields.length}`);
        continue;
      }
      try {
        onRow(identity ? fields : columnIndex.map((idx) => fields[idx]!), lineNo);
      } catch (err) {
        if (!(err instanceof RowProblem)) throw err;
        rowError(err.message);
      }
    }
  } finally {
    lines.close();
    input.destroy();
  }
  if (streamError !== undefined) throw fileOpenError(file, streamError);
  if (columnIndex === undefined) {
    throw new MalformedResultsFileError(file, `file is empty; expected the header ${columns.join(',')}`, 1);
  }
}

/** Reads every row of a small CSV file (events, decisions) through `parse`. */
export async function readCsvRows<T>(
  file: string,
  columns: readonly string[],
  parse: (fields: readonly string[]) => T,
): Promise<T[]> {
  const rows: T[] = [];
  await streamCsv(file, columns, (f) => rows.push(parse(f)));
  return rows;
}

export function fileOpenError(file: string, err: unknown): ResultsError {
  if ((err as NodeJS.ErrnoException).code === 'ENOENT') return missingFileError(file);
  return new ResultsError(file, `cannot read: ${(err as Error).message}`);
}

export function missingFileError(file: string): MissingResultsFileError {
  return new MissingResultsFileError(file, 'file is missing (did the run finish writing its results?)');
}

// ---- fields --------------------------------------------------------------------------------

function parseNumber(text: string): number {
  // Number('') is 0 and Number(' ') too: an empty field must not read as a zero delay.
  return text.trim() === '' ? Number.NaN : Number(text);
}

export function finiteField(name: string, text: string): number {
  const value = parseNumber(text);
  if (!Number.isFinite(value)) throw new RowProblem(`${name} is not a number (${JSON.stringify(text)})`);
  return value;
}

export function integerField(name: string, text: string, min: number): number {
  const value = finiteField(name, text);
  if (!Number.isInteger(value) || value < min) {
    throw new RowProblem(`${name} must be an integer ≥ ${min} (${JSON.stringify(text)})`);
  }
  return value;
}
