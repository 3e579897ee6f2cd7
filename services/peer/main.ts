// `livepath peers`: one process hosting many virtual viewers (a 2-core machine cannot run one
// process per viewer). Each viewer joins at its scripted time, records every chunk, and leaves or
// is killed when the scenario says so.
import { join } from 'node:path';
import type { ViewerPlan } from '../core/types.js';
import { ClientPool } from '../relay/client.js';
import { addRelayService, startServer } from '../relay/server.js';
import { createShell, type ShellOptions } from '../runtime/shell.js';
import { lookupAddress, type Directory } from '../runtime/directory.js';
import { CHUNK_CSV_HEADER, CsvAppender, EVENT_CSV_HEADER, chunkRow } from '../results/csv.js';
import { Viewer } from './viewer.js';
import { TsRecorder } from '../results/recording.js';
import { mkdirSync } from 'node:fs';
import { createTrackerClient, PeerAgent } from './p2p.js';
import { DEADLINE_CHECK_MS, REPORT_INTERVAL_MS } from './constants.js';
import { ViewerMetrics } from './metrics.js';

export interface PeersOptions extends ShellOptions {
  listen: string;
  directory: Directory;
  /** explicit viewer ids, or a slice by index */
  viewers?: string[];
  viewerIndex?: number;
  viewersPerHost?: number;
  mode: 'cdn' | 'p2p';
  /** tracker address (p2p mode) */
  tracker?: string;
  /** address children use to reach this process (default: the address it listens on) */
  advertise?: string;
  /** write each viewer's received chunks to DIR/<viewer>.ts */
  record?: string;
}

export class ViewerSelectionError extends Error {}

export function selectViewers(
  all: ViewerPlan[],
  o: Pick<PeersOptions, 'viewers' | 'viewerIndex' | 'viewersPerHost'>,
): ViewerPlan[] {
  if (o.viewers && o.viewers.length > 0) {
    const byId = new Map(all.map((v) => [v.id, v]));
    return o.viewers.map((id) => {
      const v = byId.get(id);
      if (!v)
        throw new ViewerSelectionError(
          `--viewers: "${id}" is not a viewer of this scenario (e.g. ${all[0]?.id ?? 'none'})`,
        );
      return v;
    });
  }
  const per = o.viewersPerHost ?? all.length;
  const index = o.viewerIndex ?? 0;
  const slice = all.slice(index * per, (index + 1) * per);
  if (slice.length === 0)
    throw new ViewerSelectionError(
      `--viewer-index ${index} × --viewers-per-host ${per} is past the scenario's ${all.length} viewers`,
    );
  return slice;
}

export async function runPeers(o: PeersOptions): Promise<void> {
  const shell = createShell(o, 'peer');
  const { plan, clock, link, log, control } = shell;
  const mine = selectViewers(plan.viewers, o);
  const viewerMetrics = new ViewerMetrics(shell.metrics, plan, mine);
  const pool = new ClientPool();
  const chunks = shell.outDir
    ? new CsvAppender(join(shell.outDir, `${shell.proc}.chunks.csv`), CHUNK_CSV_HEADER)
    : undefined;
  const events = shell.outDir
    ? new CsvAppender(join(shell.outDir, `${shell.proc}.events.csv`), EVENT_CSV_HEADER)
    : undefined;
  const viewers = new Map<string, Viewer>();
  if (o.record) mkdirSync(o.record, { recursive: true });
  const recorders = new Map(o.record ? mine.map((vp) => [vp.id, new TsRecorder(o.record!, vp.id)] as const) : []);
  let received = 0;
  for (const vp of mine) {
    const v = new Viewer(
      { plan: vp, streamId: plan.stream.streamId },
      {
        clock,
        link,
        pool,
        record: (r) => {
          received++;
          chunks?.row(chunkRow(r));
          viewerMetrics.chunk(r);
        },
        event: (kind, detail) => events?.row([clock.nowUs(), kind, vp.id, detail]),
        recorder: recorders.get(vp.id),
      },
    );
    viewers.set(vp.id, v);
  }
  // Registered first, so it runs last on stop: after the viewers have left.
  shell.onStop(() => Promise.all([...recorders.values()].map((r) => r.close())).then(() => undefined));
  const server = await startServer(o.listen, (s) =>
    addRelayService(s, { link, clock, node: (id) => viewers.get(id)?.node }),
  );
  const timers: NodeJS.Timeout[] = [];
  const agents = new Map<string, PeerAgent>();
  if (o.mode === 'p2p') {
    if (!o.tracker)
      throw new ViewerSelectionError('--mode p2p needs --tracker HOST:PORT (the tracker assigns parents)');
    const tracker = createTrackerClient(o.tracker);
    shell.onStop(() => tracker.close());
    for (const v of viewers.values()) {
      agents.set(
        v.id,
        new PeerAgent(v, {
          clock,
          link,
          pool,
          tracker,
          advertise: o.advertise ?? server.address,
          uplinkBps: plan.hosts.get(v.id)?.uplinkBps ?? 0,
          lastSeq: Math.floor((plan.durationS * 1e6) / plan.stream.chunkDurationUs) - 1,
          event: (kind, detail) => {
            viewerMetrics.event(kind, detail);
            events?.row([clock.nowUs(), kind, v.id, detail]);
          },
        }),
      );
    }
    const deadlines = setInterval(() => {
      const now = clock.nowUs();
      for (const a of agents.values()) a.checkDeadlines(now);
    }, DEADLINE_CHECK_MS);
    const reports = setInterval(() => {
      for (const a of agents.values()) a.report();
    }, REPORT_INTERVAL_MS);
    shell.onStop(() => {
      clearInterval(deadlines);
      clearInterval(reports);
    });
  }
  const progress = setInterval(
    () => control.emit({ event: 'progress', proc: shell.proc, received, viewers: viewers.size }),
    1_000,
  );
  shell.onStop(async () => {
    await chunks?.close();
    await events?.close();
  });
  shell.onStop(() => server.stop());
  shell.onStop(() => pool.close());
  shell.onStop(() => {
    clearInterval(progress);
    timers.forEach(clearTimeout);
    for (const v of viewers.values()) v.leave();
  });

  const joinViewer = (v: Viewer) => {
    viewerMetrics.joined(v.id, clock.nowUs());
    const agent = agents.get(v.id);
    if (agent) {
      events?.row([clock.nowUs(), 'join', v.id, 'tracker']);
      void agent.join();
      return;
    }
    const edgeId = v.init.plan.edgeId;
    events?.row([clock.nowUs(), 'join', v.id, edgeId]);
    v.join({ id: edgeId, address: lookupAddress(o.directory, edgeId) });
  };
  const leaveViewer = (v: Viewer, kind: 'graceful' | 'kill') => {
    events?.row([clock.nowUs(), kind === 'kill' ? 'kill' : 'leave', v.id, '']);
    viewerMetrics.left(v.id);
    const agent = agents.get(v.id);
    if (agent) agent.leave(kind);
    else if (kind === 'kill') v.kill();
    else v.leave();
  };
  shell.onCommand((c) => {
    if (c.cmd === 'start') {
      for (const v of viewers.values()) {
        const joinUs = c.atUs + v.init.plan.joinAtS * 1e6;
        timers.push(setTimeout(() => joinViewer(v), Math.max(0, (joinUs - clock.nowUs()) / 1000)));
        const leaveAtS = v.init.plan.leaveAtS;
        if (leaveAtS !== undefined) {
          const kind = v.init.plan.leaveKind ?? 'graceful';
          timers.push(
            setTimeout(() => leaveViewer(v, kind), Math.max(0, (c.atUs + leaveAtS * 1e6 - clock.nowUs()) / 1000)),
          );
        }
      }
    }
  });
  log.info({ address: server.address, viewers: viewers.size, mode: o.mode }, 'peers ready');
  shell.metrics.sampleOnScrape({ relays: () => [...viewers.values()].map((v) => v.node) });
  await shell.ready(server.address);
}
