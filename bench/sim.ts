// The simulator's figures (issue 15): agreement with the local emulation on world and metro
// (each scenario emulated and simulated in this run, side by side), and the simulator's own
// scale — wall time and peak RSS for 10^5 and 10^6 viewers × 60 s of stream, and the planner's
// work per join from 10^4 to 10^6 — each a `livepath sim` process, as a user runs it.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../bin/livepath.js', import.meta.url));

export interface SimScaleRun {
  viewers: number;
  mode: string;
  /** wall seconds the simulation took (undefined: stopped at the cap) */
  wallS: number | undefined;
  plannerMsPerJoin: number | undefined;
  peakRssMiB: number | undefined;
  /** the last progress line when stopped at the cap */
  reached: string;
}

/** `livepath sim world --viewers N --duration S --mode M`, stopped after `capS` seconds. */
export function simScaleRun(viewers: number, durationS: number, mode: 'cdn' | 'p2p', out: string, capS: number) {
  return new Promise<SimScaleRun>((resolve) => {
    const child = spawn(
      process.execPath,
      [
        CLI,
        'sim',
        'world',
        '--viewers',
        String(viewers),
        '--duration',
        String(durationS),
        '--mode',
        mode,
        '--out',
        join(out, `sim-${mode}-${viewers}`),
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), capS * 1000);
    child.on('exit', () => {
      clearTimeout(timer);
      const done = /simulated in ([\d.]+) s wall: \d+ events, planner ([\d.]+) ms per join, peak RSS (\d+) MiB/.exec(
        stderr,
      );
      const progress =
        stderr
          .split('\n')
          .filter((l) => l.includes('chunks simulated'))
          .at(-1) ?? '';
      resolve({
        viewers,
        mode,
        wallS: done ? Number(done[1]) : undefined,
        plannerMsPerJoin: done ? Number(done[2]) : undefined,
        peakRssMiB: done ? Number(done[3]) : undefined,
        reached: progress,
      });
    });
  });
}
