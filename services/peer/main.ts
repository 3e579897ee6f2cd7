// `livepath peers`: one process hosting many virtual viewers (a 2-core machine cannot run one
// process per viewer). Each viewer joins at its scripted time on the stream's clock, records every
// chunk, and leaves or is killed when the scenario says so. Driven by a lab, the clock is the
// lab's start and the scenario plays once; standalone (a pod), the clock is the one the tracker
// publishes and the schedule repeats every durationS (services/peer/schedule.ts).
import type { ViewerPlan } from '../core/types.js';
import { ClientPool } from '../relay/client.js';
import { addRelayService } from '../relay/server.js';
import { startServer } from '../runtime/grpc.js';
import { selectViewers, ViewerSelectionError } from '../core/viewer-hosts.js';
import { createShell, type ShellOptions } from '../runtime/shell.js';
import { lookupAddress, type Directory } from '../runtime/directory.js';
import { chunkCount, chunkRow } from '../results/chunks.js';
import { eventRow, type EventKind, reparentDetail } from '../results/events.js';
import { rawAppender } from '../results/raw.js';
import { Viewer } from './viewer.js';
import { processIntegrity } from '../relay/integrity.js';
import { type AdversaryTally, adversaryHook } from './adversary.js';
import { TsRecorder } from '../results/recording.js';
import { mkdirSync } from 'node:fs';
import { createTrackerClient, PeerAgent } from './p2p.js';
import { presenceAt } from './schedule.js';
import { watchReadiness } from '../runtime/readiness.js';
import { STREAM_CLOCK_POLL_MS } from '../runtime/constants.js';
import type { TrackerClient } from '../gen/livepath/v1/tracker.js';
import { ViewerMetrics } from './metrics.js';
import { FragmentStats } from '../results/fragments.js';

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

export async function runPeers(o: PeersOptions): Promise<void> {
  const shell = createShell(o, 'peer');
  const { plan, clock, link, log, control } = shell;
  const mine = selectViewers(plan.viewers, o);
  const viewerMetrics = new ViewerMetrics(shell.metrics, plan, mine);
  const pool = new ClientPool();
  const integrity = processIntegrity(o.originKey, clock.nowUs, shell.integrityCounters);
  const chunks = shell.outDir ? rawAppender(shell.outDir, shell.proc, 'chunks') : undefined;
  const eventsFile = shell.outDir ? rawAppender(shell.outDir, shell.proc, 'events') : undefined;
  const event = (viewer: string, kind: EventKind, detail: string) =>
    eventsFile?.row(eventRow({ atUs: clock.nowUs(), kind, viewer, detail }));
  // The run the scenario describes: a deployment streams on, but its records (what a lab run
  // collects) cover the first durationS only, so a pod's results emptyDir does not fill up.
  const runChunks = chunkCount(plan);
  /** the viewers present now (a viewer that leaves and rejoins is a new Viewer) */
  const viewers = new Map<string, Viewer>();
  const agents = new Map<string, PeerAgent>();
  if (o.record) mkdirSync(o.record, { recursive: true });
  const recorders = new Map(o.record ? mine.map((vp) => [vp.id, new TsRecorder(o.record!, vp.id)] as const) : []);
  let received = 0;
  const fragments = new FragmentStats();
  const makeViewer = (vp: ViewerPlan) => {
    const v = new Viewer(
      { plan: vp, streamId: plan.stream.streamId },
      {
        clock,
        link,
        pool,
        ...integrity,
        record: (r) => {
          received++;
          if (r.seq < runChunks) chunks?.row(chunkRow(r));
          viewerMetrics.chunk(r);
        },
        event: (kind, detail) => event(vp.id, kind, detail),
        recorder: recorders.get(vp.id),
      },
    );
    v.node.onFragmentDelivered = (f, arrivalUs) => {
      if (f.seq < runChunks) fragments.record(vp, f, arrivalUs);
    };
    return v;
  };
  // Registered first, so it runs last on stop: after the viewers have left.
  shell.onStop(() => Promise.all([...recorders.values()].map((r) => r.close())).then(() => undefined));
  const server = await startServer(o.listen, (s) =>
    addRelayService(s, { link, clock, node: (id) => viewers.get(id)?.node }),
  );
  let tracker: TrackerClient | undefined;
  if (o.mode === 'p2p') {
    if (!o.tracker)
      throw new ViewerSelectionError('--mode p2p needs --tracker HOST:PORT (the tracker assigns parents)');
    tracker = createTrackerClient(o.tracker);
  } else if (o.tracker && o.control === 'standalone') tracker = createTrackerClient(o.tracker); // for the clock
  if (tracker) shell.onStop(() => tracker.close());
  const makeAgent = (v: Viewer, t: TrackerClient) =>
    new PeerAgent(v, {
      clock,
      link,
      pool,
      tracker: t,
      verifier: integrity.verifier,
      advertise: o.advertise ?? server.address,
      uplinkBps: plan.hosts.get(v.id)?.uplinkBps ?? 0,
      downlinkBps: plan.hosts.get(v.id)?.downlinkBps ?? 0,
      // Fast start needs the edge's address; a host given none waits for its peer parent instead.
      cdnEdge: o.directory.has(v.init.plan.edgeId)
        ? { id: v.init.plan.edgeId, address: lookupAddress(o.directory, v.init.plan.edgeId) }
        : undefined,
      // A deployment's broadcast has no last chunk.
      lastSeq: o.control === 'stdio' ? runChunks - 1 : undefined,
      event: (kind, detail) => {
        viewerMetrics.event(kind, detail);
        event(v.id, kind, detail);
      },
    });
  const progress = setInterval(
    () => control.emit({ event: 'progress', proc: shell.proc, received, viewers: viewers.size }),
    1_000,
  );
  const timers = new Map<string, NodeJS.Timeout>();
  shell.onStop(async () => {
    await chunks?.close();
    await eventsFile?.close();
    if (shell.outDir) fragments.write(shell.outDir, shell.proc);
  });
  shell.onStop(() => server.stop());
  shell.onStop(() => pool.close());
  shell.onStop(() => {
    clearInterval(progress);
    for (const t of timers.values()) clearTimeout(t);
    for (const v of viewers.values()) v.leave();
  });

  const adversaries: AdversaryTally = { tampered: 0, replayed: 0, withheld: 0, trickled: 0 };
  if (mine.some((vp) => vp.adversary)) shell.adversaries = adversaries;
  const joinViewer = (vp: ViewerPlan) => {
    const v = makeViewer(vp);
    viewers.set(vp.id, v);
    if (vp.adversary) {
      // Fault injection: this viewer turns adversary at its time (a repeating schedule: each period).
      const fromUs = startUs! + vp.adversary.atS * 1e6;
      v.node.misbehave = adversaryHook(
        { kind: vp.adversary.kind, fromUs, bitrateBps: plan.stream.bitrateBps },
        clock.nowUs,
        adversaries,
      );
      event(v.id, 'adversary', `${vp.adversary.kind} from ${vp.adversary.atS} s`);
    }
    viewerMetrics.joined(v.id, clock.nowUs());
    if (o.mode === 'p2p') {
      const agent = makeAgent(v, tracker!);
      agents.set(v.id, agent);
      event(v.id, 'join', 'tracker');
      agent.join();
      return;
    }
    const edgeId = vp.edgeId;
    event(v.id, 'join', edgeId);
    v.join({ id: edgeId, address: lookupAddress(o.directory, edgeId) });
    // A lost edge (killed, crashed): fail over to the next nearest edge this host can reach; the
    // viewer resumes there from its next missing seq, which every edge still holds.
    const edges = plan.edges
      .map((e) => e.id)
      .filter((id) => o.directory.has(id))
      .sort((a, b) => plan.latencyMs(vp.id, a) - plan.latencyMs(vp.id, b));
    if (edges.length > 1) {
      v.onParentLost = () => {
        const lost = v.parentLink.current?.id ?? edgeId;
        const next = edges[(edges.indexOf(lost) + 1) % edges.length]!;
        event(v.id, 'reparent', reparentDetail({ from: lost, to: next, reason: 'parent-lost' }));
        v.attach({ id: next, address: lookupAddress(o.directory, next) });
      };
    }
  };
  const leaveViewer = (v: Viewer, kind: 'graceful' | 'kill') => {
    event(v.id, kind === 'kill' ? 'kill' : 'leave', '');
    viewerMetrics.left(v.id);
    viewers.delete(v.id);
    const agent = agents.get(v.id);
    agents.delete(v.id);
    if (agent) agent.leave(kind);
    else if (kind === 'kill') v.kill();
    else v.leave();
  };

  // The schedule: each viewer joins and leaves when the stream's clock says (schedule.ts).
  let startUs: number | undefined;
  let periodS: number | undefined;
  const step = (vp: ViewerPlan) => {
    const p = presenceAt(vp, (clock.nowUs() - startUs!) / 1e6, periodS);
    const v = viewers.get(vp.id);
    if (p.present && !v) joinViewer(vp);
    else if (!p.present && v) leaveViewer(v, vp.leaveKind ?? 'graceful');
    if (p.nextS === undefined) timers.delete(vp.id);
    else
      timers.set(
        vp.id,
        setTimeout(() => step(vp), Math.max(0, (startUs! + p.nextS * 1e6 - clock.nowUs()) / 1000)),
      );
  };
  const begin = (atUs: number, repeat: boolean) => {
    if (startUs !== undefined) return;
    startUs = atUs;
    periodS = repeat ? plan.durationS : undefined;
    log.info({ startUs, repeatEveryS: periodS }, 'viewers scheduled on the stream clock');
    for (const vp of mine) step(vp);
  };
  shell.onCommand((c) => {
    if (c.cmd !== 'start') return;
    if (o.control === 'stdio') return begin(c.atUs, false);
    // Standalone (a pod): the stream's clock is the tracker's, learnt from the origin; a pod that
    // starts late, or again, joins on it the viewers that should be present by now.
    if (!tracker) {
      log.warn({}, "no --tracker: the viewers are scheduled from this process' start, not the stream's clock");
      return begin(c.atUs, true);
    }
    const t = tracker;
    const ask = () => {
      if (startUs !== undefined) return;
      t.streamClock({}, (err, res) => {
        if (!err && res?.known) begin(res.startUs, true);
        else timers.set('', setTimeout(ask, STREAM_CLOCK_POLL_MS));
      });
    };
    ask();
  });
  // Ready once the stream's clock is known and every viewer present has a parent.
  shell.onStop(
    watchReadiness({
      server,
      log,
      check: () => {
        if (startUs === undefined) return 'waiting for the stream clock from the tracker';
        const orphans = [...viewers.values()].filter((v) => !v.parentLink.current).length;
        return orphans === 0 ? undefined : `${orphans} of ${viewers.size} viewers have no parent yet`;
      },
    }),
  );
  log.info({ address: server.address, viewers: mine.length, mode: o.mode }, 'peers ready');
  shell.metrics.sampleOnScrape({ relays: () => [...viewers.values()].map((v) => v.node) });
  await shell.ready(server.address);
}
