// `livepath tracker`: the tracker as a service process. It takes from the scenario only what a
// real tracker is configured with (stream bitrate, chunk size, which roots exist and their
// uplinks), never the latencies; proximity comes from what peers measure.
import { setPriority } from 'node:os';
import { Prng } from '../core/prng.js';
import { OverlayPlanner } from '../core/overlay/planner.js';
import { startServer } from '../runtime/grpc.js';
import { createShell, type ShellOptions } from '../runtime/shell.js';
import { lookupAddress, type Directory } from '../runtime/directory.js';
import { decisionRow, proximityRow, rawAppender } from '../results/raw.js';
import { IMPROVE_INTERVAL_MS, IMPROVE_MAX_MOVES_SHARE, TRACKER_NICE } from './constants.js';
import { overlaySettings, plannerConfig } from './settings.js';
import { SUSPECT_REASONS, Tracker } from './tracker.js';
import { originKeyBytes } from '../relay/integrity.js';
import { StreamClock } from './stream-clock.js';
import { ClientPool } from '../relay/client.js';
import { watchReadiness } from '../runtime/readiness.js';

export interface TrackerOptions extends ShellOptions {
  listen: string;
  directory: Directory;
  originSlots?: number;
  edgeSlots?: number;
}

export async function runTracker(o: TrackerOptions): Promise<void> {
  const shell = createShell(o, 'tracker');
  const { plan, log, control } = shell;
  try {
    setPriority(TRACKER_NICE);
  } catch (e) {
    log.warn({ err: e }, "could not lower the tracker's CPU priority; short hops may see more emulation error");
  }
  const settings = overlaySettings(plan, { originSlots: o.originSlots, edgeSlots: o.edgeSlots });
  const planner = new OverlayPlanner(plannerConfig(settings), Prng.derive(plan.seed, 'tracker'));
  const samples = shell.outDir ? rawAppender(shell.outDir, shell.proc, 'proximity') : undefined;
  const decisions = shell.outDir ? rawAppender(shell.outDir, shell.proc, 'decisions') : undefined;
  const assignments = shell.metrics.trackerAssignmentsTotal;
  // Every ban reason has a series from the start (0 until a ban), so the dashboard's panel is not empty.
  for (const reason of SUSPECT_REASONS) shell.metrics.limitedTotal.inc({ reason: `banned-${reason}` }, 0);
  // Every reason exported from the start, at 0: a dashboard shows "none yet", not "No data".
  for (const reason of ['join', 'parent-lost', 'improve'] as const) assignments.inc({ reason }, 0);
  const uplinkOf = (id: string) => plan.hosts.get(id)?.uplinkBps ?? 10e9;
  const streamClock = new StreamClock(plan.stream.chunkDurationUs, {
    nowUs: shell.clock.nowUs,
    log,
    outDir: shell.outDir,
  });
  shell.onStop(() => streamClock.stop());
  const tracker = new Tracker(
    {
      originKey: o.originKey === undefined ? undefined : originKeyBytes(o.originKey),
      roots: [
        {
          id: plan.originId,
          role: 'origin',
          address: lookupAddress(o.directory, plan.originId),
          slots: settings.originSlots,
          uplinkBps: uplinkOf(plan.originId),
        },
        ...plan.edges.map((e) => ({
          id: e.id,
          role: 'edge' as const,
          address: lookupAddress(o.directory, e.id),
          slots: settings.edgeSlots,
          uplinkBps: uplinkOf(e.id),
        })),
      ],
    },
    {
      planner,
      log,
      onSample: (peer, node, rttMs) => samples?.row(proximityRow({ peer, node, rttMs })),
      streamClock: () => streamClock.answer(),
      onBan: (_peer, reason) => shell.metrics.limitedTotal.inc({ reason: `banned-${reason}` }),
      onDecision: (d) => {
        assignments.inc({ reason: d.reason });
        decisions?.row(
          decisionRow({
            atUs: shell.clock.nowUs(),
            peer: d.peerId,
            parent: d.parentId,
            reason: d.reason,
            expectedDelayMs: d.expectedDelayMs,
            overBudget: d.overBudget,
          }),
        );
      },
    },
  );
  const server = await startServer(o.listen, (srv) => tracker.addTo(srv));
  const improver = setInterval(() => {
    const moves = tracker.improve(Math.max(1, Math.ceil(planner.peerCount * IMPROVE_MAX_MOVES_SHARE)));
    if (moves > 0) log.info({ moves }, 'overlay improved');
    control.emit({ event: 'progress', proc: shell.proc, peers: tracker.peerCount, assignments: tracker.assignments });
  }, IMPROVE_INTERVAL_MS);
  shell.onStop(async () => {
    await samples?.close();
    await decisions?.close();
  });
  shell.onStop(() => server.stop());
  shell.onStop(() => clearInterval(improver));
  // The stream's clock: a lab says when chunk 0 begins; standalone, the origin's chunks tell.
  if (o.control === 'stdio') {
    shell.onCommand((c) => {
      if (c.cmd === 'start') streamClock.set(c.atUs);
    });
  } else {
    const pool = new ClientPool();
    shell.onStop(() => pool.close());
    streamClock.learnFrom(plan.originId, lookupAddress(o.directory, plan.originId), pool);
  }
  shell.onStop(
    watchReadiness({
      server,
      log,
      check: () => (streamClock.known ? undefined : 'no chunk from the origin yet (the stream clock is unknown)'),
    }),
  );
  log.info({ address: server.address }, 'tracker ready');
  shell.metrics.sampleOnScrape({ trackerPeers: () => tracker.peerCount });
  await shell.ready(server.address);
}
