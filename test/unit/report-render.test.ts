// renderReport writes one self-contained report.html with every section and chart, for both
// layouts, without any network reference, and small enough for a large run.

import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { readResults } from '../../services/results/read.js';
import { buildReportHtml, renderReport } from '../../services/lab/report/render.js';
import { writeFakeResults } from '../fixtures/make-results.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'results');
let scratch: string;

before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'livepath-report-render-'));
});
after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

const SECTION_TITLES = [
  'How to read this',
  'Headline numbers',
  'Chunk-delay CDF per path',
  'Stretch per viewer',
  'Delay over time',
  'Offload',
  'Overlay tree',
];

/** Top-level inline SVGs: each chart's starts with `<svg role="img" aria-label=…`. */
function svgs(html: string): string[] {
  return html
    .split('<svg role="img"')
    .slice(1)
    .map((s) => s.slice(0, s.lastIndexOf('</svg>')));
}

function assertSelfContained(html: string): void {
  const urls = [...html.matchAll(/https?:\/\/[^\s"'<>)]*/g)].map((m) => m[0]);
  assert.deepEqual([...new Set(urls)], urls.length ? ['http://www.w3.org/2000/svg'] : [], 'only the SVG namespace');
  for (const tag of ['<script', '<link', '<img', '<iframe', '@import', ' src=']) {
    assert.ok(!html.includes(tag), `no ${tag}`);
  }
  // url(#id) points into the page (clip paths); anything else would be a fetch.
  assert.ok(!/url\((?!#)/.test(html), 'only url(#fragment) references');
  // Each chart's ids are its own: two charts defining the same id would clip each other.
  const ids = [...html.matchAll(/ id="([^"]+)"/g)].map((m) => m[1]);
  assert.equal(new Set(ids).size, ids.length, 'ids are unique in the page');
  for (const ref of html.matchAll(/url\(#([^)]+)\)/g)) assert.ok(ids.includes(ref[1]), `url(#${ref[1]}) resolves`);
}

describe('renderReport', () => {
  it('writes DIR/report.html with every section and chart for a --mode both geo run', async () => {
    const dir = join(scratch, 'geo-both');
    await cp(join(FIXTURES, 'geo-both'), dir, { recursive: true });
    const out = await renderReport(dir);
    assert.equal(out, join(dir, 'report.html'));
    const html = await readFile(out, 'utf8');
    assert.ok(html.startsWith('<!DOCTYPE html>'));
    for (const title of SECTION_TITLES) assert.ok(html.includes(`>${title}</h2>`), `section ${title}`);
    assertSelfContained(html);

    const charts = svgs(html);
    // CDF, stretch, delay over time, offload, and one overlay map per mode.
    assert.equal(charts.length, 6);
    const chart = (title: string) => charts.find((s) => s.includes(`>${title}</text>`));
    for (const title of [
      'Chunk delay CDF per path',
      'Stretch per viewer: CDN mode vs P2P mode',
      'Chunk delay over time, per path',
      'Offload: share of chunk bytes delivered by peers',
      'Overlay at the end of the run — p2p mode',
      'Overlay at the end of the run — cdn mode',
    ]) {
      assert.ok(chart(title), `chart titled ${title}`);
    }
    // Axis titles carry units; legends name the series of both modes.
    const cdf = chart('Chunk delay CDF per path')!;
    assert.ok(cdf.includes('chunk delay (ms)'));
    for (const series of ['cdn mode · CDN path', 'p2p mode · peer path', 'p2p mode · CDN path', 'bound (physical)']) {
      assert.ok(cdf.includes(series), series);
    }
    // The map draws ~177 country outlines, plus a link per viewer.
    const map = chart('Overlay at the end of the run — p2p mode')!;
    assert.ok((map.match(/<path /g) ?? []).length > 150);
    assert.ok(map.includes('peer path (viewer → viewer)'));
    const time = chart('Chunk delay over time, per path')!;
    assert.ok(time.includes('churn event') && time.includes('kill'));
  });

  it('puts the summary numbers of both modes in the headline table', async () => {
    const results = await readResults(join(FIXTURES, 'geo-both'));
    const html = await buildReportHtml(results, new Date(0));
    const table = html.slice(html.indexOf('<table class="headline">'), html.indexOf('</table>'));
    const [cdn, p2p] = results.modes.map((m) => m.summary);
    assert.ok(table.includes('>cdn mode</th>') && table.includes('>p2p mode</th>'));
    assert.ok(table.includes(`${(p2p!.offload * 100).toFixed(1)} %`));
    assert.ok(table.includes(`${p2p!.stretch.peer.p50!.toFixed(2)}×`));
    assert.ok(table.includes(`${cdn!.delayMs.cdn.p99!.toFixed(1)}`));
    for (const label of [
      'chunk delay p50 (ms)',
      'chunk delay p95 (ms)',
      'chunk delay p99 (ms)',
      'stretch p50',
      'stretch p95',
      'excess',
      'lost chunks',
      'offload',
      'join time',
      'stalls',
      're-parents',
      'emulation error p99 (ms)',
    ]) {
      assert.ok(table.includes(label), label);
    }
  });

  it('renders a one-mode graph run with no peer rows: one mode, a node-link overlay', async () => {
    const dir = join(scratch, 'graph-cdn');
    await cp(join(FIXTURES, 'graph-cdn'), dir, { recursive: true });
    const html = await readFile(await renderReport(dir), 'utf8');
    assertSelfContained(html);
    for (const title of SECTION_TITLES) assert.ok(html.includes(`>${title}</h2>`), `section ${title}`);
    assert.ok(!html.includes('>p2p mode</th>'));
    assert.ok(html.includes('No chunk came over the peer path'));
    const charts = svgs(html);
    assert.equal(charts.length, 5);
    const overlay = charts.find((s) => s.includes('Overlay at the end of the run — cdn mode'))!;
    assert.ok(overlay.includes('relay hops from the broadcaster'));
    assert.ok(overlay.includes('>edge-paris</text>'), 'small graphs label their nodes');
    assert.ok(charts.some((s) => s.includes('Stretch per viewer (median over its chunks), viewers sorted')));
  });

  it('escapes names from the results files', async () => {
    const results = await readResults(join(FIXTURES, 'graph-cdn'));
    results.scenario = '<script>alert(1)</script>';
    const html = await buildReportHtml(results);
    assert.ok(!html.includes('<script>'));
    assert.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
  });

  it('stays under 3 MB for 120 viewers × 160 chunks × 2 modes', async () => {
    const dir = join(scratch, 'large');
    await writeFakeResults(dir, { kind: 'geo', viewers: 120, chunks: 160, modes: ['cdn', 'p2p'], seed: 5 });
    const out = await renderReport(dir);
    const { size } = await stat(out);
    assert.ok(size < 3 * 1024 * 1024, `${size} bytes`);
    const html = await readFile(out, 'utf8');
    assert.equal(svgs(html).length, 6);
    assertSelfContained(html);
  });
});
