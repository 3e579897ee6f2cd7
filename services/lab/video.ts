// Real video in `livepath run`: for a scenario whose broadcaster is real video, an nginx-rtmp
// ingest for the run, the origin's and viewers' recordings (--record), and the ingest lines after
// the table. (`livepath ingest`, the ingest on its own, is commands/ingest.ts.)
import { join } from 'node:path';
import type { Mode, RunPlan } from '../core/types.js';
import { systemClock } from '../runtime/clock.js';
import { DEFAULT_STREAM_KEY } from '../origin/ingest/constants.js';
import { IngestServer } from '../origin/ingest/nginx.js';
import type { Backend } from './backends/index.js';
import type { Summary } from '../results/summary.js';

const say = (line: string) => process.stderr.write(`livepath: ${line}\n`);

export interface VideoRunOptions {
  modes: Mode[];
  /** record every viewer's (and the origin's) chunks as .ts under this directory */
  record?: string;
  /** an RTMP ingest running elsewhere (e.g. `livepath ingest`): pull from it instead of starting one */
  rtmpUrl?: string;
}

export interface VideoRun {
  /** adds the ingest and recording options to a backend's processes */
  wrap(backend: Backend): Backend;
  /** prints the ingest results; false when the broadcast broke */
  report(summaries: Summary[]): boolean;
  stop(): Promise<void>;
}

/** Sets up what a run needs beyond the synthetic broadcaster; a no-op for synthetic scenarios without --record. */
export async function prepareVideoRun(plan: RunPlan, o: VideoRunOptions): Promise<VideoRun> {
  const source = plan.stream.source;
  let server: IngestServer | undefined;
  const originArgs: string[] = [];
  if (source?.kind === 'rtmp') {
    const pull = o.rtmpUrl ?? source.input;
    if (pull) originArgs.push('--rtmp-url', pull);
    else {
      server = new IngestServer({ streamKey: source.streamKey }, { nowUs: systemClock.nowUs, log: () => undefined });
      await server.start();
      const url = server.publishUrl(source.streamKey ?? DEFAULT_STREAM_KEY);
      originArgs.push('--rtmp-url', url, '--ingest-gate', server.gateUrl);
      say(
        `broadcaster: push to ${url} (OBS: server ${server.serverUrl}, stream key ${source.streamKey ?? DEFAULT_STREAM_KEY}; see docs/obs.md)`,
      );
      if (o.modes.length > 1)
        say('each mode takes its own broadcast: push again when the origin attaches for the next mode');
      server.onPlay = () => say('origin attached to the ingest: start the broadcast now');
      server.onPublish = () => say('broadcast started');
      server.onPublishDone = () => say('broadcaster disconnected');
    }
  }
  const recordDir = (mode: Mode) => (o.record ? (o.modes.length > 1 ? join(o.record, mode) : o.record) : undefined);
  return {
    wrap: (backend) => (bo) => {
      const dir = recordDir(bo.mode);
      const record = dir ? ['--record', dir] : [];
      return backend({
        ...bo,
        extraOriginArgs: [...(bo.extraOriginArgs ?? []), ...originArgs, ...record],
        extraPeerArgs: [...(bo.extraPeerArgs ?? []), ...record],
      });
    },
    report(summaries) {
      let ok = true;
      for (const s of summaries) {
        const label = summaries.length > 1 ? ` (${s.mode})` : '';
        if (s.ingestDelayMs && s.ingestDelayMs.count > 0) {
          const d = s.ingestDelayMs;
          const anchor = s.ingest?.anchor === 'first-chunk' ? ', relative to the first chunk' : '';
          process.stdout.write(
            `ingest delay${label} (broadcaster → origin, first frame of each chunk${anchor}): p50 ${d.p50} ms, p95 ${d.p95} ms, max ${d.max} ms over ${d.count} chunks\n`,
          );
        }
        if (s.ingest?.endedEarly) {
          ok = false;
          say(`${s.ingest.endedEarly}`);
        }
      }
      if (o.record) say(`recordings: ${o.record} (play one: livepath play ${o.record} <viewer>)`);
      return ok;
    },
    stop: async () => {
      await server?.stop();
    },
  };
}
