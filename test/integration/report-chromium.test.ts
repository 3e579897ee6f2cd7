// Opens a rendered report.html in headless Debian chromium, offline: the DOM must hold the inline
// SVG charts and the screenshot must be a full page. Skipped only where chromium is not installed
// (`apt-get install -y chromium`).

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { access, cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { renderReport } from '../../services/lab/report/render.js';
import { renderScalingReport } from '../../services/lab/report/scaling.js';
import { renderSweepReport } from '../../services/lab/report/sweep.js';

const CHROMIUM = '/usr/bin/chromium';
const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'results');
const WINDOW = { width: 1280, height: 4000 };
const run = promisify(execFile);

const chromiumMissing = await access(CHROMIUM).then(
  () => false,
  () => true,
);

let scratch: string;
let reportUrl: string;

async function chromium(...args: string[]): Promise<string> {
  const { stdout } = await run(
    CHROMIUM,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      // Any request the page tried to make would fail to resolve: the report must not need one.
      '--host-resolver-rules=MAP * ~NOTFOUND',
      `--user-data-dir=${join(scratch, 'profile')}`,
      `--window-size=${WINDOW.width},${WINDOW.height}`,
      ...args,
      reportUrl,
    ],
    { timeout: 90_000, maxBuffer: 64 * 1024 * 1024 },
  );
  return stdout;
}

describe('report.html in headless chromium', {
  skip: chromiumMissing ? `${CHROMIUM} is not installed (apt-get install -y chromium)` : false,
}, () => {
  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'livepath-report-chromium-'));
    const dir = join(scratch, 'results');
    await cp(join(FIXTURES, 'geo-both'), dir, { recursive: true });
    reportUrl = pathToFileURL(await renderReport(dir)).href;
  });
  after(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  it('parses the inline SVG charts into the DOM', async () => {
    const dom = await chromium('--dump-dom');
    const charts = dom.match(/<svg role="img"/g) ?? [];
    assert.equal(charts.length, 6, 'CDF, stretch, delay over time, offload, two overlay maps');
    for (const title of [
      'Chunk delay CDF per path',
      'Stretch per viewer: CDN mode vs P2P mode',
      'Overlay at the end of the run — p2p mode',
    ]) {
      assert.ok(dom.includes(`>${title}</text>`), title);
    }
    // The map's country outlines survived parsing as SVG paths, not as text.
    assert.ok((dom.match(/<path /g) ?? []).length > 300);
    assert.ok(dom.includes('<table class="headline">'));
  });

  it('takes a full-page screenshot', async () => {
    const png = join(scratch, 'report.png');
    await chromium(`--screenshot=${png}`);
    const bytes = await readFile(png);
    assert.equal(bytes.subarray(1, 4).toString('ascii'), 'PNG');
    // IHDR: width and height as big-endian u32 at bytes 16 and 20.
    assert.equal(bytes.readUInt32BE(16), WINDOW.width);
    assert.equal(bytes.readUInt32BE(20), WINDOW.height);
    // A blank or error page compresses to a few KB; six charts do not.
    assert.ok(bytes.length > 100_000, `${bytes.length} bytes`);
  });
});

describe('a sweep report in headless chromium', {
  skip: chromiumMissing ? `${CHROMIUM} is not installed (apt-get install -y chromium)` : false,
}, () => {
  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'livepath-sweep-chromium-'));
    const dir = join(scratch, 'sweep');
    await cp(join(FIXTURES, 'sweep'), dir, { recursive: true });
    reportUrl = pathToFileURL(await renderSweepReport(dir)).href;
  });
  after(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  it('parses the trade-off chart and the variants table into the DOM', async () => {
    const dom = await chromium('--dump-dom');
    assert.equal((dom.match(/<svg role="img"/g) ?? []).length, 1);
    assert.ok(dom.includes('>Offload against chunk delay, one point per value of overlay.originSlots</text>'));
    // one label per variant and series: the swept values are on the chart
    for (const v of ['1', '2', '4', '8', '16']) assert.ok(dom.includes(`>${v}</text>`), `label ${v}`);
    assert.equal((dom.match(/<tr><th scope="row"><a href=/g) ?? []).length, 5);
  });

  it('takes a screenshot with the chart drawn', async () => {
    const png = join(scratch, 'sweep.png');
    await chromium(`--screenshot=${png}`);
    const bytes = await readFile(png);
    assert.equal(bytes.subarray(1, 4).toString('ascii'), 'PNG');
    assert.ok(bytes.length > 30_000, `${bytes.length} bytes`);
  });
});

describe('a scaling report (livepath sim --scale) in headless chromium', {
  skip: chromiumMissing ? `${CHROMIUM} is not installed (apt-get install -y chromium)` : false,
}, () => {
  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'livepath-scaling-chromium-'));
    const dir = join(scratch, 'scaling');
    // scaling.json of `livepath sim world --scale 30,100,300`
    await cp(join(FIXTURES, 'scaling'), dir, { recursive: true });
    reportUrl = pathToFileURL(await renderScalingReport(dir)).href;
  });
  after(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  it('parses the five charts against audience size and the sizes table into the DOM', async () => {
    const dom = await chromium('--dump-dom');
    assert.equal((dom.match(/<svg role="img"/g) ?? []).length, 5);
    for (const title of [
      'Chunk delay against audience size',
      'Stretch against audience size',
      'Peer tree depth against audience size',
      'Planner work per join against audience size',
      'Offload against audience size',
    ])
      assert.ok(dom.includes(`>${title}</text>`), title);
    // each size links to its own report
    assert.equal((dom.match(/<tr><th scope="row"><a href="viewers-/g) ?? []).length, 3);
  });

  it('takes a screenshot with the charts drawn', async () => {
    const png = join(scratch, 'scaling.png');
    await chromium(`--screenshot=${png}`);
    const bytes = await readFile(png);
    assert.equal(bytes.subarray(1, 4).toString('ascii'), 'PNG');
    assert.ok(bytes.length > 60_000, `${bytes.length} bytes`);
  });
});
