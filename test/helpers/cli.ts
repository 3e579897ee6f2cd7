// Runs the built `livepath` command as a user would, for integration tests.
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
