// The local backend: every service as a process on 127.0.0.1, many virtual viewers per process,
// delays emulated by linkemu. Starts origin, then edges (parents before children), then viewers;
// starts the broadcast once all are ready; stops everything when the last chunk has drained.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Mode, RunPlan } from '../core/types.js';
import { formatDirectory, type Directory } from '../runtime/directory.js';
import type { ControlEvent } from '../runtime/control.js';
import { DEFAULT_VIEWERS_PER_HOST, DRAIN_GRACE_MS, START_LEAD_MS } from './constants.js';
import { spawnService, stopAll, type ServiceProcess } from './procs.js';
import type { RawRunInfo } from './summary.js';

export interface BackendRunOptions {
  plan: RunPlan;
  scenarioPath: string;
  mode: Mode;
  /** raw per-process files go here */
  rawDir: string;
  logDir: string;
  viewersPerHost?: number;
  /** progress callback: chunks produced so far of total, chunk records received so far */
  onProgress?: (p: { produced: number; total: number; received: number }) => void;
  /** aborts the run early (Ctrl-C): resolves the run with what was received */
  signal?: AbortSignal;
}

export function orderEdges(plan: RunPlan): RunPlan['edges'] {
  const done = new Set([plan.originId]);
  const out: RunPlan['edges'] = [];
  let rest = [...plan.edges];
  while (rest.length > 0) {
    const ready = rest.filter((e) => done.has(e.parentId));
    if (ready.length === 0) throw new Error(`edge parents form a cycle or name unknown nodes: ${rest.map((e) => `${e.id}→${e.parentId}`).join(', ')}`);
    for (const e of ready) {
      out.push(e);
      done.add(e.id);
    }
    rest = rest.filter((e) => !done.has(e.id));
  }
  return out;
}

export async function runLocal(o: BackendRunOptions): Promise<RawRunInfo> {
  const { plan } = o;
  mkdirSync(o.rawDir, { recursive: true });
  mkdirSync(o.logDir, { recursive: true });
  const procs: ServiceProcess[] = [];
  const directory: Directory = new Map();
  const received = new Map<string, number>();
  let produced = 0;
  let finished = false;
  let onFinished: () => void = () => undefined;
  const finishedP = new Promise<void>((r) => (onFinished = r));
  const total = Math.floor((plan.durationS * 1e6) / plan.stream.chunkDurationUs);
  const onEvent = (e: ControlEvent) => {
    if (e.event !== 'progress') return;
    if (typeof e.produced === 'number') produced = e.produced;
    if (typeof e.received === 'number') received.set(e.proc, e.received);
    if (e.finished && !finished) {
      finished = true;
      onFinished();
    }
    o.onProgress?.({ produced, total, received: [...received.values()].reduce((a, b) => a + b, 0) });
  };
  const common = ['--scenario', o.scenarioPath, '--seed', String(plan.seed), '--out', o.rawDir];
  const start = (proc: string, args: string[]) =>
    spawnService({ proc, args: [...args, ...common, '--proc', proc], logDir: o.logDir, onEvent }).then((p) => {
      procs.push(p);
      return p;
    });

  let startUs = 0;
  try {
    const origin = await start('origin', ['origin', '--node', plan.originId, '--listen', '127.0.0.1:0']);
    directory.set(plan.originId, origin.address!);
    for (const e of orderEdges(plan)) {
      const p = await start(e.id, ['edge', '--node', e.id, '--listen', '127.0.0.1:0', '--directory', formatDirectory(directory)]);
      directory.set(e.id, p.address!);
    }
    const per = o.viewersPerHost ?? DEFAULT_VIEWERS_PER_HOST;
    const hosts = Math.ceil(plan.viewers.length / per);
    await Promise.all(
      Array.from({ length: hosts }, (_, i) =>
        start(`peers-${i}`, ['peers', '--viewer-index', String(i), '--viewers-per-host', String(per), '--mode', o.mode, '--listen', '127.0.0.1:0', '--directory', formatDirectory(directory)]),
      ),
    );
    startUs = Date.now() * 1000 + START_LEAD_MS * 1000;
    for (const p of procs) p.send({ cmd: 'start', atUs: startUs });
    const aborted = new Promise<void>((r) => o.signal?.addEventListener('abort', () => r(), { once: true }));
    const originExit = origin.exited.then(() => undefined);
    await Promise.race([finishedP, aborted, originExit]);
    if (!o.signal?.aborted) {
      const maxBoundMs = Math.max(0, ...plan.viewers.map((v) => v.boundMs));
      await Promise.race([new Promise((r) => setTimeout(r, DRAIN_GRACE_MS + 3 * maxBoundMs)), aborted]);
    }
  } finally {
    await stopAll(procs);
  }
  return { plan, mode: o.mode, backend: 'local', chunksProduced: produced, startUs };
}
