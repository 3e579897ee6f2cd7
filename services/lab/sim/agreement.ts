// How well a simulated run agrees with an emulated run of the same scenario (issue 15's
// validation): per mode and per path, the median delay within 5 % and the p95 within 10 %, the
// offload within 2 points and the same lost chunks. The CI test asserts it; the bench prints it.
import type { Comparison, ModeSummary } from '../../results/summary.js';

export const MEDIAN_TOLERANCE = 0.05;
export const P95_TOLERANCE = 0.1;
export const OFFLOAD_TOLERANCE_POINTS = 2;
/**
 * A path that carries less than this share of a mode's chunks is shown but not held to the
 * tolerances: on the peer path, the few chunks a viewer gets from its edge (fast start while it
 * probes, a root's own children) are a handful of samples whose tail is a matter of which chunks.
 */
export const MIN_PATH_SHARE = 0.1;

export interface PathAgreement {
  mode: 'cdn' | 'p2p';
  path: 'cdn' | 'peer';
  chunks: { emulated: number; simulated: number };
  p50: { emulated: number; simulated: number; error: number };
  p95: { emulated: number; simulated: number; error: number };
  /** held to the tolerances (carries at least MIN_PATH_SHARE of the mode's chunks in the emulation) */
  held: boolean;
  ok: boolean;
}

export interface ModeAgreement {
  mode: 'cdn' | 'p2p';
  paths: PathAgreement[];
  offload: { emulated: number; simulated: number; points: number; ok: boolean };
  lost: { emulated: number; simulated: number; ok: boolean };
  ok: boolean;
}

const relError = (sim: number, emu: number) => (emu === 0 ? (sim === 0 ? 0 : Infinity) : Math.abs(sim - emu) / emu);

export function modeAgreement(emu: ModeSummary, sim: ModeSummary): ModeAgreement {
  const paths: PathAgreement[] = [];
  for (const path of ['cdn', 'peer'] as const) {
    const e = emu.delayMs[path];
    const s = sim.delayMs[path];
    if (e.count === 0 && s.count === 0) continue;
    const p50 = { emulated: e.p50 ?? 0, simulated: s.p50 ?? 0, error: relError(s.p50 ?? 0, e.p50 ?? 0) };
    const p95 = { emulated: e.p95 ?? 0, simulated: s.p95 ?? 0, error: relError(s.p95 ?? 0, e.p95 ?? 0) };
    const held = e.count >= MIN_PATH_SHARE * Math.max(1, emu.delayMs.all.count);
    paths.push({
      mode: emu.mode,
      path,
      chunks: { emulated: e.count, simulated: s.count },
      p50,
      p95,
      held,
      ok: !held || (p50.error <= MEDIAN_TOLERANCE && p95.error <= P95_TOLERANCE),
    });
  }
  const points = Math.abs(sim.offload - emu.offload) * 100;
  const offload = { emulated: emu.offload, simulated: sim.offload, points, ok: points <= OFFLOAD_TOLERANCE_POINTS };
  const lost = { emulated: emu.lostChunks, simulated: sim.lostChunks, ok: emu.lostChunks === sim.lostChunks };
  return { mode: emu.mode, paths, offload, lost, ok: paths.every((p) => p.ok) && offload.ok && lost.ok };
}

export function agreement(emu: Comparison, sim: Comparison): ModeAgreement[] {
  const out: ModeAgreement[] = [];
  for (const mode of emu.modes) {
    const e = emu[mode];
    const s = sim[mode];
    if (e && s) out.push(modeAgreement(e, s));
  }
  return out;
}

/** One line per mode and path: the figures side by side, and whether each holds. */
export function formatAgreement(name: string, modes: ModeAgreement[]): string {
  const lines: string[] = [];
  const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
  for (const m of modes) {
    for (const p of m.paths)
      lines.push(
        `${name} ${m.mode} mode, ${p.path} path (${p.chunks.emulated} / ${p.chunks.simulated} chunks): p50 ${p.p50.emulated.toFixed(1)} vs ${p.p50.simulated.toFixed(1)} ms (${pct(p.p50.error)}), p95 ${p.p95.emulated.toFixed(1)} vs ${p.p95.simulated.toFixed(1)} ms (${pct(p.p95.error)})${p.held ? (p.ok ? ' met' : ' NOT MET') : ' (few chunks: shown only)'}`,
      );
    lines.push(
      `${name} ${m.mode} mode: offload ${pct(m.offload.emulated)} vs ${pct(m.offload.simulated)} (${m.offload.points.toFixed(1)} points${m.offload.ok ? ', met' : ', NOT MET'}), lost ${m.lost.emulated} vs ${m.lost.simulated}${m.lost.ok ? ' (met)' : ' (NOT MET)'}`,
    );
  }
  return lines.join('\n');
}
