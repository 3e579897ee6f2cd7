// Renders DIR/report.html from a results directory: reads and validates the files (read.ts),
// aggregates them (aggregate.ts), draws each chart to SVG server-side (charts.ts, svg.ts) and
// writes one self-contained page (html.ts). Entry point of `livepath report <out>`.

import { readFile, rename, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { delayCdf, delayOverTime, offloadBars, overlayDrawing, stretchPerViewer } from './aggregate.js';
import { cdfSpec, delayOverTimeSpec, offloadSpec, overlayGraphSpec, overlayMapSpec, stretchSpec } from './charts.js';
import { reportPage, type ReportSection } from './html.js';
import { readResults, type Results } from '../../results/read.js';
import { renderSvg } from './svg.js';

export const REPORT_FILE = 'report.html';

let countriesTopology: Promise<object> | undefined;

/** Country outlines (Natural Earth 1:110m via world-atlas), read once per process. */
function loadCountries(): Promise<object> {
  countriesTopology ??= readFile(
    createRequire(import.meta.url).resolve('world-atlas/countries-110m.json'),
    'utf8',
  ).then((text) => JSON.parse(text) as object);
  return countriesTopology;
}

/**
 * Reads the results in `dir` (either layout of `livepath run --out`) and writes `dir/report.html`.
 * Returns the path of the written file. Throws a ResultsError when a results file is missing or
 * malformed.
 */
export async function renderReport(dir: string): Promise<string> {
  const results = await readResults(dir);
  const html = await buildReportHtml(results);
  const target = join(dir, REPORT_FILE);
  // Write then rename, so a browser that has the old report open never sees half a file.
  const partial = `${target}.partial`;
  await writeFile(partial, html);
  await rename(partial, target);
  return target;
}

/** The report page for already-read results (also used by tests). */
export async function buildReportHtml(results: Results, generatedAt = new Date()): Promise<string> {
  // Charts are drawn one after the other: each is CPU-bound and the machine is shared.
  const sections: ReportSection[] = [];
  const modeNames = results.modes.map((m) => m.mode);
  const peerRows = results.modes.some((m) => m.summary.delayMs.peer.count > 0);

  sections.push({
    id: 'delay-cdf',
    title: 'Chunk-delay CDF per path',
    intro:
      'The further left a curve, the faster chunks arrive; the gap to the dashed bound curve is the excess. ' +
      'A curve that flattens before 100 % has a tail of late chunks.',
    svgs: [await renderSvg('delay CDF', cdfSpec(delayCdf(results.modes)))],
    notes: peerRows ? [] : ['No chunk came over the peer path in this run, so there is no peer-path curve.'],
  });

  const stretch = stretchPerViewer(results.modes);
  sections.push({
    id: 'stretch-per-viewer',
    title: 'Stretch per viewer',
    intro:
      stretch.kind === 'pairs'
        ? 'Each point is one viewer. Points under the diagonal got closer to their bound in p2p mode than in cdn mode; points above lost by relaying.'
        : 'Each viewer’s median stretch, viewers sorted from best to worst. A flat line at 1× would mean every viewer at its physical bound.',
    svgs: [await renderSvg('stretch per viewer', stretchSpec(stretch))],
    notes:
      stretch.kind === 'pairs' && stretch.pairs.length < stretch.viewersInBoth
        ? [`Showing ${stretch.pairs.length} of ${stretch.viewersInBoth} viewers (an even spread by viewer id).`]
        : [],
  });

  const series = delayOverTime(results.modes);
  sections.push({
    id: 'delay-over-time',
    title: 'Delay over time',
    intro:
      'How the delay per path evolves during the run, with churn marked: after a viewer leaves or is killed, its children re-parent ' +
      'and their delay may jump until the overlay settles.',
    svgs: [await renderSvg('delay over time', delayOverTimeSpec(series, modeNames))],
    notes:
      series.churn.length < series.churnTotal
        ? [`Showing ${series.churn.length} of ${series.churnTotal} churn events.`]
        : [],
  });

  sections.push({
    id: 'offload',
    title: 'Offload',
    intro:
      'How much of the delivery the viewers carried themselves: every byte delivered by a peer is a byte the CDN did not serve.',
    svgs: [await renderSvg('offload', offloadSpec(offloadBars(results.modes)))],
    notes: [],
  });

  // The overlay of the p2p mode is the interesting one; the cdn mode's tree (every viewer under
  // its nearest edge) is drawn too because it shows where the edges are relative to the viewers.
  const countries = results.modes.some((m) => m.plan.kind === 'geo') ? await loadCountries() : undefined;
  const overlaySvgs: string[] = [];
  const overlayNotes: string[] = [];
  for (const mode of [...results.modes].reverse()) {
    const drawing = overlayDrawing(mode);
    overlaySvgs.push(
      drawing.kind === 'geo'
        ? await renderSvg(`overlay map (${mode.mode})`, overlayMapSpec(drawing, countries!))
        : await renderSvg(`overlay graph (${mode.mode})`, overlayGraphSpec(drawing)),
    );
    if (drawing.viewersDrawn < drawing.viewerCount) {
      overlayNotes.push(`${mode.mode} mode: showing ${drawing.viewersDrawn} of ${drawing.viewerCount} viewers.`);
    }
    if (drawing.unplaced > 0) {
      overlayNotes.push(
        `${mode.mode} mode: ${drawing.unplaced} node(s) have no lat/lon in plan.json and are not on the map.`,
      );
    }
    if (drawing.unknownParents.length > 0) {
      const sample = [...new Set(drawing.unknownParents)].slice(0, 5).join(', ');
      overlayNotes.push(
        `${mode.mode} mode: overlay.json names ${drawing.unknownParents.length} parent(s) that are not in plan.json (${sample}); those links are not drawn.`,
      );
    }
  }
  sections.push({
    id: 'overlay',
    title: 'Overlay tree',
    intro:
      'Who each viewer received from at the end of the run. Short peer links between neighbours are what lets the peer path ' +
      'approach the bound; long lines back to a far edge are the CDN detour.',
    svgs: overlaySvgs,
    notes: overlayNotes,
  });

  return reportPage(results, sections, generatedAt);
}
