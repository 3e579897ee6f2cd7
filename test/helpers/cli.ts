// Runs the built `livepath` command as a user would, for integration tests.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';

/** The checkout's root, whether the tests run from test/ (tsx) or from dist/test/. */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) || basename(dir) === 'dist') dir = dirname(dir);
  return dir;
}

export const ROOT = repoRoot();
export const CLI = join(ROOT, 'bin', 'livepath.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], opts: { timeoutMs?: number; cwd?: string } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `livepath-${prefix}-`));
}

export function writeScenario(dir: string, name: string, yaml: string): string {
  const path = join(dir, `${name}.yaml`);
  writeFileSync(path, yaml);
  return path;
}

/**
 * scenarios/small.yaml (the graph small enough to check by hand) under another name, with top-level
 * keys replaced or added, as YAML: tests that need a variant of it say only what differs.
 */
export function smallScenario(name: string, keys: Record<string, unknown> = {}): string {
  return stringify({ ...parse(readFileSync(join(ROOT, 'scenarios', 'small.yaml'), 'utf8')), name, ...keys });
}

export interface ChunkRow {
  viewer: string;
  seq: number;
  producedAtUs: number;
  delayMs: number;
  boundMs: number;
  path: string;
  hops: number;
  parent: string;
}

export function readChunks(dir: string): ChunkRow[] {
  const [header, ...lines] = readFileSync(join(dir, 'chunks.csv'), 'utf8').trim().split('\n');
  const cols = header!.split(',');
  return lines.map((l) => {
    const f = l.split(',');
    const get = (name: string) => f[cols.indexOf(name)]!;
    return {
      viewer: get('viewer'),
      seq: Number(get('seq')),
      producedAtUs: Number(get('producedAtUs')),
      delayMs: Number(get('delayMs')),
      boundMs: Number(get('boundMs')),
      path: get('path'),
      hops: Number(get('hops')),
      parent: get('parent'),
    };
  });
}

// biome-ignore lint/suspicious/noExplicitAny: tests read results files whose shape they then assert
export function readJson<T = any>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** A `livepath <role>` started standalone (as a pod runs it), once it logged that it is ready. */
export interface StandaloneService {
  address: string;
  metricsUrl?: string;
  /** its stderr (pino JSON lines) so far */
  log(): string;
  /** SIGTERM, then SIGKILL after 3 s; resolves when it has exited */
  stop(): Promise<void>;
}

/**
 * Starts `livepath <args>` with no control channel (`--control standalone`, the default) and
 * resolves with the address from its ready event; rejects when it exits or is not ready in time.
 */
export function startStandalone(
  args: string[],
  opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv; cli?: string } = {},
): Promise<StandaloneService> {
  const child = spawn(process.execPath, [opts.cli ?? CLI, ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ...opts.env },
  });
  let stderr = '';
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 3_000);
      await exited;
      clearTimeout(t);
    }
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`livepath ${args.join(' ')} not ready in time:\n${stderr}`));
    }, opts.timeoutMs ?? 30_000);
    let partial = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d;
      const lines = (partial + d).split('\n');
      partial = lines.pop()!;
      for (const line of lines) {
        if (!line.includes('"event":"ready"')) continue;
        const e = JSON.parse(line) as { address: string; metricsUrl?: string };
        clearTimeout(timer);
        resolve({ address: e.address, metricsUrl: e.metricsUrl, log: () => stderr, stop });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`livepath ${args.join(' ')} exited (${code}) before it was ready:\n${stderr}`));
    });
  });
}

/**
 * The bound is a lower bound: no recorded chunk of a run may arrive sooner than its bound, nor
 * any fragment (summary.belowBound). Every integration test that produces chunks.csv calls this on
 * its run's output (a mode's directory, or a run of both modes with cdn/ and p2p/ inside).
 * delayMs and boundMs are written rounded to µs, hence a µs of slack.
 */
export function assertNoChunkBelowBound(out: string): void {
  const dirs = [out, join(out, 'cdn'), join(out, 'p2p')].filter((d) => existsSync(join(d, 'chunks.csv')));
  assert.ok(dirs.length > 0, `no chunks.csv under ${out}`);
  for (const dir of dirs) {
    const rows = readChunks(dir);
    assert.ok(rows.length > 0, `${dir}/chunks.csv has rows`);
    const below = rows.filter((r) => r.delayMs < r.boundMs - 0.001);
    assert.deepEqual(
      below.slice(0, 5),
      [],
      `${below.length} of ${rows.length} chunks in ${dir} arrived before their bound (first ones shown)`,
    );
    const summaryPath = join(dir, 'summary.json');
    if (existsSync(summaryPath)) {
      const summary = readJson(summaryPath);
      assert.equal(summary.belowBound?.chunks, 0, `${dir}: summary counts chunks below their bound`);
      assert.equal(summary.belowBound?.fragments, 0, `${dir}: fragments delivered before their own bytes could be`);
    }
  }
}
