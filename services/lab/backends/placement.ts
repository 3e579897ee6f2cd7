// Running one mode of an experiment on a placement of processes: origin, then edges (parents
// before children), then the viewer hosts; the broadcast starts once all are ready and everything
// stops when the last chunk has drained. The local backend places every process on 127.0.0.1
// (local.ts); Mininet places them on its hosts (mininet.ts).
import { mkdirSync } from 'node:fs';
import type { LinkShaping, Payload, RunPlan } from '../../core/types.js';
import { sliceViewers } from '../../core/viewer-hosts.js';
import { formatDirectory, type Directory } from '../../runtime/directory.js';
import type { ControlEvent } from '../../runtime/control.js';
import { DEFAULT_VIEWERS_PER_HOST, DRAIN_GRACE_MS, START_LEAD_MS } from '../constants.js';
import { spawnService, stopAll, type ServiceProcess } from './procs.js';
import type { BackendRunOptions, ProcSpec, RawRunInfo } from './index.js';
import { chunkCount } from '../../results/chunks.js';
import { eventRow } from '../../results/events.js';
import { rawAppender } from '../../results/raw.js';

/** Where and how each process of a run runs. */
export interface Placement {
  name: string;
  linkShaping: LinkShaping;
  /** what synthetic chunks carry, when the backend decides (else the scenario's stream.payload) */
  payload?: Payload;
  /** address the process listens on (others reach it there) */
  listenHost(spec: ProcSpec): string;
  /** command prefix to run the process inside its host (e.g. Mininet's mnexec) */
  prefix?(spec: ProcSpec): string[] | undefined;
  /** how viewers are grouped into peers processes (default: slices of viewersPerHost) */
  viewerGroups?(plan: RunPlan): string[][];
}

export function orderEdges(plan: RunPlan): RunPlan['edges'] {
  const done = new Set([plan.originId]);
  const out: RunPlan['edges'] = [];
  let rest = [...plan.edges];
  while (rest.length > 0) {
    const ready = rest.filter((e) => done.has(e.parentId));
    if (ready.length === 0)
      throw new Error(
        `edge parents form a cycle or name unknown nodes: ${rest.map((e) => `${e.id}→${e.parentId}`).join(', ')}`,
      );
    for (const e of ready) {
      out.push(e);
      done.add(e.id);
    }
    rest = rest.filter((e) => !done.has(e.id));
  }
  return out;
}

export async function runOnPlacement(o: BackendRunOptions, placement: Placement): Promise<RawRunInfo> {
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
  const total = chunkCount(plan);
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
  // Metrics on any free port of the process' own address: several processes share a host.
  const common = [
    '--scenario',
    o.scenarioPath,
    '--seed',
    String(plan.seed),
    '--out',
    o.rawDir,
    '--link-shaping',
    placement.linkShaping,
    '--metrics-port',
    '0',
    ...(placement.payload ? ['--payload', placement.payload] : []),
  ];
  const start = (spec: ProcSpec, args: string[], listen = `${placement.listenHost(spec)}:0`) =>
    spawnService({
      proc: spec.proc,
      args: [...args, '--listen', listen, ...common, '--proc', spec.proc],
      logDir: o.logDir,
      onEvent,
      prefix: placement.prefix?.(spec),
    }).then(async (p) => {
      procs.push(p);
      await o.onServiceReady?.(spec, p);
      return p;
    });
  /** The processes of the run by role and node, for the scenario's faults. */
  const byNode = new Map<string, { spec: ProcSpec; args: string[]; proc: ServiceProcess }>();
  const started = async (spec: ProcSpec, args: string[]) => {
    const proc = await start(spec, args);
    byNode.set(spec.nodeIds[0] ?? spec.role, { spec, args, proc });
    return proc;
  };
  const faultsFile = rawAppender(o.rawDir, 'lab', 'events');
  const faultTimers: NodeJS.Timeout[] = [];
  /**
   * The scenario's faults, at their time on the stream's clock: SIGKILL (no goodbye, as a crash),
   * and for a restart the same command on the same address after downS, told the stream's start.
   */
  const scheduleFaults = (atUs: number) => {
    for (const f of plan.faults) {
      const target = byNode.get(f.kind === 'kill-edge' ? f.edgeId : 'tracker');
      if (!target) {
        process.stderr.write(
          `livepath: fault ${f.kind} at ${f.atS} s skipped: this run has no ${f.kind === 'kill-edge' ? `edge "${f.edgeId}"` : 'tracker (cdn mode)'}\n`,
        );
        continue;
      }
      faultTimers.push(
        setTimeout(
          () => {
            target.proc.child.kill('SIGKILL');
            faultsFile.row(
              eventRow({ atUs: Date.now() * 1000, kind: 'fault', viewer: '', detail: `${f.kind} ${target.spec.proc}` }),
            );
            if (f.kind === 'kill-edge') return;
            const address = target.proc.address!;
            faultTimers.push(
              setTimeout(() => {
                // A new name: the killed process' raw files stay as it left them.
                const spec = { ...target.spec, proc: `${target.spec.proc}-r${f.atS}` };
                void start(spec, target.args, address).then((p) => {
                  target.proc = p;
                  p.send({ cmd: 'start', atUs });
                  faultsFile.row(
                    eventRow({
                      atUs: Date.now() * 1000,
                      kind: 'fault',
                      viewer: '',
                      detail: `restarted ${target.spec.proc}`,
                    }),
                  );
                });
              }, f.downS * 1000),
            );
          },
          Math.max(0, atUs / 1000 + f.atS * 1000 - Date.now()),
        ),
      );
    }
  };

  let startUs = 0;
  let originKey: string | undefined;
  try {
    const origin = await started({ proc: 'origin', role: 'origin', nodeIds: [plan.originId] }, [
      'origin',
      '--node',
      plan.originId,
      ...(o.extraOriginArgs ?? []),
    ]);
    directory.set(plan.originId, origin.address!);
    // Every other process verifies each fragment against the key the origin made at its start.
    originKey = origin.originKey;
    if (originKey) common.push('--origin-key', originKey);
    for (const e of orderEdges(plan)) {
      const p = await started({ proc: e.id, role: 'edge', nodeIds: [e.id] }, [
        'edge',
        '--node',
        e.id,
        '--directory',
        formatDirectory(directory),
      ]);
      directory.set(e.id, p.address!);
    }
    const peerArgs: string[] = [];
    if (o.mode === 'p2p') {
      const tracker = await started({ proc: 'tracker', role: 'tracker', nodeIds: [] }, [
        'tracker',
        '--directory',
        formatDirectory(directory),
      ]);
      peerArgs.push('--tracker', tracker.address!);
    }
    const groups =
      placement.viewerGroups?.(plan) ??
      sliceViewers(
        plan.viewers.map((v) => v.id),
        o.viewersPerHost ?? DEFAULT_VIEWERS_PER_HOST,
      );
    await Promise.all(
      groups.map((ids, i) =>
        start({ proc: `peers-${i}`, role: 'peers', nodeIds: ids }, [
          'peers',
          '--viewers',
          ids.join(','),
          '--mode',
          o.mode,
          '--directory',
          formatDirectory(directory),
          ...peerArgs,
          ...(o.extraPeerArgs ?? []),
        ]),
      ),
    );
    startUs = Date.now() * 1000 + START_LEAD_MS * 1000;
    for (const p of procs) p.send({ cmd: 'start', atUs: startUs });
    scheduleFaults(startUs);
    const aborted = new Promise<void>((r) => o.signal?.addEventListener('abort', () => r(), { once: true }));
    const originExit = origin.exited.then(() => undefined);
    await Promise.race([finishedP, aborted, originExit]);
    if (!o.signal?.aborted) {
      const maxBoundMs = Math.max(0, ...plan.viewers.map((v) => v.boundMs));
      await Promise.race([new Promise((r) => setTimeout(r, DRAIN_GRACE_MS + 3 * maxBoundMs)), aborted]);
    }
  } finally {
    for (const t of faultTimers) clearTimeout(t);
    await stopAll(procs);
    await faultsFile.close();
  }
  return { plan, mode: o.mode, backend: placement.name, chunksProduced: produced, startUs, originKey };
}
