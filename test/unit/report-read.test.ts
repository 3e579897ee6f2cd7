// Reader of results directories: both layouts read into the right shapes, and every malformed
// file fails with a ResultsError that names the file and (where there is one) the line.

import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { readChunksCsv } from '../../services/results/chunks.js';
import { splitCsvLine } from '../../services/results/csv.js';
import {
  MalformedResultsFileError,
  MissingResultsFileError,
  NotAResultsDirError,
  ResultsError,
} from '../../services/results/errors.js';
import { readResults } from '../../services/results/read.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'results');
let scratch: string;
let copies = 0;

before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'livepath-report-read-'));
});
after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** A private copy of a committed fixture, to corrupt. */
async function copyFixture(name: string): Promise<string> {
  const dir = join(scratch, `${name}-${copies++}`);
  await cp(join(FIXTURES, name), dir, { recursive: true });
  return dir;
}

async function replaceLine(file: string, lineNo: number, edit: (line: string) => string): Promise<void> {
  const lines = (await readFile(file, 'utf8')).split('\n');
  lines[lineNo - 1] = edit(lines[lineNo - 1]!);
  await writeFile(file, lines.join('\n'));
}

/** Asserts the promise rejects with `kind`, naming `file` and `line`, with `pattern` in the message. */
async function rejectsWith(
  promise: Promise<unknown>,
  kind: new (...args: never[]) => ResultsError,
  file: string,
  line: number | undefined,
  pattern: RegExp,
): Promise<ResultsError> {
  const err = await promise.then(
    () => assert.fail('expected a ResultsError'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof kind, `expected ${kind.name}, got ${String(err)}`);
  assert.ok(err instanceof ResultsError);
  assert.equal(err.file, file);
  assert.equal(err.line, line);
  assert.ok(err.message.startsWith(line === undefined ? `${file}: ` : `${file}: line ${line}: `), err.message);
  assert.match(err.message, pattern);
  return err;
}

describe('readResults on good fixtures', () => {
  it('reads the --mode both layout: two modes, every chunk row, events and overlay', async () => {
    const dir = join(FIXTURES, 'geo-both');
    const results = await readResults(dir);
    assert.equal(results.layout, 'both');
    assert.deepEqual(
      results.modes.map((m) => m.mode),
      ['cdn', 'p2p'],
    );
    assert.equal(results.scenario, 'fixture-world');
    assert.equal(results.seed, 7);
    for (const m of results.modes) {
      const csv = (await readFile(join(dir, m.mode, 'chunks.csv'), 'utf8')).trim().split('\n');
      assert.equal(m.chunks.rowCount, csv.length - 1);
      // Spot-check one row against the text, column by column.
      const [viewer, seq, producedAtUs, , delayMs, boundMs, path, hops, parent] = csv[5]!.split(',');
      const i = 4;
      assert.equal(m.chunks.viewers[m.chunks.viewerIndex[i]!], viewer);
      assert.equal(m.chunks.seq[i], Number(seq));
      assert.equal(m.chunks.producedAtUs[i], Number(producedAtUs));
      assert.ok(Math.abs(m.chunks.delayMs[i]! - Number(delayMs)) < 1e-3);
      assert.ok(Math.abs(m.chunks.boundMs[i]! - Number(boundMs)) < 1e-3);
      assert.equal(m.chunks.path[i], path === 'peer' ? 1 : 0);
      assert.equal(m.chunks.hops[i], Number(hops));
      assert.equal(m.chunks.parents[m.chunks.parentIndex[i]!], parent);
      assert.equal(m.plan.kind, 'geo');
      assert.equal(m.plan.viewers.length, 24);
      assert.ok(m.events.some((e) => e.kind === 'join'));
      assert.ok(m.overlay.parents.length > 0);
    }
    const p2p = results.modes[1]!;
    assert.ok(p2p.summary.offload > 0);
    assert.ok(
      p2p.chunks.path.some((code) => code === 1),
      'p2p mode has peer-path rows',
    );
    // The quoted detail "SIGKILL, no Leave" keeps its comma instead of becoming a fifth field.
    assert.ok(p2p.events.some((e) => e.kind === 'kill' && e.detail === 'SIGKILL, no Leave'));
  });

  it('reads the one-mode layout (files directly in DIR) of a graph run', async () => {
    const results = await readResults(join(FIXTURES, 'graph-cdn'));
    assert.equal(results.layout, 'single');
    assert.deepEqual(
      results.modes.map((m) => m.mode),
      ['cdn'],
    );
    assert.equal(results.comparison, undefined);
    assert.equal(results.modes[0]!.plan.kind, 'graph');
    assert.ok((results.modes[0]!.plan.links ?? []).length > 0);
    assert.equal(results.modes[0]!.summary.delayMs.peer.count, 0);
    assert.equal(results.modes[0]!.summary.delayMs.peer.p50, null);
  });

  it('accepts CRLF line endings and columns in another order', async () => {
    const dir = await copyFixture('graph-cdn');
    const file = join(dir, 'chunks.csv');
    const lines = (await readFile(file, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => l.split(','));
    const reordered = lines.map((f) => [f[4], f[0], ...f.slice(1, 4), ...f.slice(5)].join(','));
    await writeFile(file, `${reordered.join('\r\n')}\r\n`);
    const table = await readChunksCsv(file);
    assert.equal(table.rowCount, lines.length - 1);
    assert.ok(Math.abs(table.delayMs[0]! - Number(lines[1]![4])) < 1e-3);
    assert.equal(table.viewers[table.viewerIndex[0]!], lines[1]![0]);
  });

  it('grows its columns past the initial capacity without losing rows', async () => {
    const file = join(scratch, 'many-chunks.csv');
    const rows = 40_000;
    const text = ['viewer,seq,producedAtUs,receivedAtUs,delayMs,boundMs,path,hops,parent'];
    for (let i = 0; i < rows; i++) {
      text.push(
        `v${i % 97},${i},${i * 1000},${i * 1000 + 5000},${5 + (i % 13)},4.5,${i % 3 ? 'cdn' : 'peer'},${1 + (i % 4)},p${i % 5}`,
      );
    }
    await writeFile(file, `${text.join('\n')}\n`);
    const table = await readChunksCsv(file);
    assert.equal(table.rowCount, rows);
    assert.equal(table.viewers.length, 97);
    assert.equal(table.seq[rows - 1], rows - 1);
    assert.equal(table.delayMs[rows - 1], 5 + ((rows - 1) % 13));
    assert.equal(table.path[rows - 1], (rows - 1) % 3 ? 0 : 1);
  });
});

describe('splitCsvLine', () => {
  it('splits plain and RFC 4180 quoted fields', () => {
    assert.deepEqual(splitCsvLine('a,b,,c'), ['a', 'b', '', 'c']);
    assert.deepEqual(splitCsvLine('1,"x, y",z'), ['1', 'x, y', 'z']);
    assert.deepEqual(splitCsvLine('"say ""hi""",2'), ['say "hi"', '2']);
    assert.deepEqual(splitCsvLine('""'), ['']);
  });
  it('returns undefined for an unclosed quote', () => {
    assert.equal(splitCsvLine('1,"open,2'), undefined);
  });
});

describe('malformed results name the file and line', () => {
  it('chunks.csv: a delay that is not a number', async () => {
    const dir = await copyFixture('geo-both');
    const file = join(dir, 'cdn', 'chunks.csv');
    await replaceLine(file, 7, (l) =>
      l
        .split(',')
        .map((f, i) => (i === 4 ? 'abc' : f))
        .join(','),
    );
    await rejectsWith(readResults(dir), MalformedResultsFileError, file, 7, /delayMs is not a number \("abc"\)/);
  });

  it('chunks.csv: an empty field is not read as 0', async () => {
    const dir = await copyFixture('geo-both');
    const file = join(dir, 'p2p', 'chunks.csv');
    await replaceLine(file, 3, (l) =>
      l
        .split(',')
        .map((f, i) => (i === 5 ? '' : f))
        .join(','),
    );
    await rejectsWith(readResults(dir), MalformedResultsFileError, file, 3, /boundMs is not a number/);
  });

  it('chunks.csv: an unknown path, a fractional seq, a wrong field count', async () => {
    const cases: [number, (l: string) => string, RegExp][] = [
      [4, (l) => l.replace(/,(cdn|peer),/, ',edge,'), /path must be "cdn" or "peer" \("edge"\)/],
      [
        5,
        (l) =>
          l
            .split(',')
            .map((f, i) => (i === 1 ? '2.5' : f))
            .join(','),
        /seq must be an integer/,
      ],
      [6, (l) => `${l},extra`, /expected 9 fields like the header, found 10/],
      [2, (l) => l.replace(/^[^,]+/, 'v999'), /viewer "v999" is not in plan\.json/],
    ];
    for (const [line, edit, pattern] of cases) {
      const dir = await copyFixture('graph-cdn');
      const file = join(dir, 'chunks.csv');
      await replaceLine(file, line, edit);
      await rejectsWith(readResults(dir), MalformedResultsFileError, file, line, pattern);
    }
  });

  it('chunks.csv: a header without a column, and an empty file', async () => {
    const dir = await copyFixture('graph-cdn');
    const file = join(dir, 'chunks.csv');
    await replaceLine(file, 1, (l) => l.replace('boundMs', 'bound'));
    await rejectsWith(readResults(dir), MalformedResultsFileError, file, 1, /header lacks column boundMs/);
    await writeFile(file, '');
    await rejectsWith(readResults(dir), MalformedResultsFileError, file, 1, /file is empty/);
  });

  it('chunks.csv missing', async () => {
    const dir = await copyFixture('geo-both');
    const file = join(dir, 'p2p', 'chunks.csv');
    await rm(file);
    await rejectsWith(readResults(dir), MissingResultsFileError, file, undefined, /file is missing/);
  });

  it('events.csv: an unknown kind', async () => {
    const dir = await copyFixture('geo-both');
    const file = join(dir, 'cdn', 'events.csv');
    await replaceLine(file, 3, (l) => l.replace(',join,', ',teleport,'));
    await rejectsWith(readResults(dir), MalformedResultsFileError, file, 3, /kind must be one of join\|leave\|kill/);
  });

  it('summary.json: a wrong type names the field and its line', async () => {
    const dir = await copyFixture('geo-both');
    const file = join(dir, 'p2p', 'summary.json');
    const summary = JSON.parse(await readFile(file, 'utf8'));
    summary.delayMs.peer.p95 = 'fast';
    const text = JSON.stringify(summary, null, 2);
    await writeFile(file, text);
    const expectedLine = text.split('\n').findIndex((l) => l.includes('"fast"')) + 1;
    await rejectsWith(
      readResults(dir),
      MalformedResultsFileError,
      file,
      expectedLine,
      /delayMs\.peer\.p95: expected number, received string/,
    );
  });

  it('summary.json: offload out of [0, 1], and a mode that does not match its directory', async () => {
    const dir = await copyFixture('geo-both');
    const file = join(dir, 'cdn', 'summary.json');
    const original = await readFile(file, 'utf8');
    await writeFile(file, original.replace(/"offload": [0-9.]+/, '"offload": 1.5'));
    await rejectsWith(readResults(dir), MalformedResultsFileError, file, lineOf(original, '"offload"'), /offload: .*1/);
    await writeFile(file, original.replace('"mode": "cdn"', '"mode": "p2p"'));
    await rejectsWith(
      readResults(dir),
      MalformedResultsFileError,
      file,
      undefined,
      /mode is "p2p" but the file is in the cdn\/ directory/,
    );
  });

  it('summary.json: invalid JSON gives the line of the syntax error', async () => {
    const dir = await copyFixture('graph-cdn');
    const file = join(dir, 'summary.json');
    const lines = (await readFile(file, 'utf8')).split('\n');
    lines[4] = lines[4]!.replace(/,$/, ''); // drop a comma: line 6 then starts an unexpected key
    await writeFile(file, lines.join('\n'));
    const err = await readResults(dir).catch((e: unknown) => e);
    assert.ok(err instanceof MalformedResultsFileError, String(err));
    assert.equal(err.file, file);
    assert.match(err.message, /not valid JSON/);
    // The YAML parser places the error at the end of line 5 or the start of line 6.
    assert.ok(err.line !== undefined && err.line >= 5 && err.line <= 6, `line ${err.line}`);
    assert.ok(err.message.startsWith(`${file}: line ${err.line}: `));
  });

  it('plan.json: a viewer id twice, and a missing field', async () => {
    const dir = await copyFixture('graph-cdn');
    const file = join(dir, 'plan.json');
    const plan = JSON.parse(await readFile(file, 'utf8'));
    plan.viewers[3].id = plan.viewers[2].id;
    await writeFile(file, JSON.stringify(plan, null, 2));
    await rejectsWith(
      readResults(dir),
      MalformedResultsFileError,
      file,
      lineOf(JSON.stringify(plan, null, 2), `"id": "${plan.viewers[3].id}"`, 2) - 1,
      /viewers\[3\]: viewer id "v002" appears twice/,
    );
    delete plan.viewers[3].boundMs;
    plan.viewers[3].id = 'v003';
    await writeFile(file, JSON.stringify(plan, null, 2));
    await rejectsWith(
      readResults(dir),
      MalformedResultsFileError,
      file,
      lineOf(JSON.stringify(plan, null, 2), '"id": "v003"') - 1,
      /viewers\[3\]\.boundMs: expected number, received undefined/,
    );
  });

  it('overlay.json: a path that is neither cdn nor peer', async () => {
    const dir = await copyFixture('geo-both');
    const file = join(dir, 'p2p', 'overlay.json');
    const overlay = JSON.parse(await readFile(file, 'utf8'));
    overlay.parents[1].path = 'p2p';
    const text = JSON.stringify(overlay, null, 2);
    await writeFile(file, text);
    await rejectsWith(readResults(dir), MalformedResultsFileError, file, lineOf(text, '"p2p"'), /parents\[1\]\.path/);
  });

  it('--mode both layout without comparison.json', async () => {
    const dir = await copyFixture('geo-both');
    await rm(join(dir, 'comparison.json'));
    await rejectsWith(readResults(dir), MissingResultsFileError, join(dir, 'comparison.json'), undefined, /missing/);
  });

  it('a directory that holds no results, and one that does not exist', async () => {
    const empty = join(scratch, 'empty');
    await mkdir(empty, { recursive: true });
    await rejectsWith(readResults(empty), NotAResultsDirError, empty, undefined, /not a livepath results directory/);
    const absent = join(scratch, 'absent');
    await rejectsWith(readResults(absent), NotAResultsDirError, absent, undefined, /no such directory/);
  });
});

/** 1-based line of the n-th occurrence of `needle`. */
function lineOf(text: string, needle: string, occurrence = 1): number {
  let seen = 0;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.includes(needle) && ++seen === occurrence) return i + 1;
  }
  throw new Error(`${needle} not in text`);
}
