// Keeps the chart's copies identical to their sources, because Helm can only ship files inside the
// chart: the Grafana dashboards (grafana/dashboards/*.json → charts/livepath/dashboards/) and the
// nginx-rtmp ingest config (ingest/nginx-rtmp.conf → charts/livepath/files/), so the sidecar and
// `livepath ingest` run the same configuration.
//   node scripts/chart-sync.mjs           copy new/changed dashboards, delete ones gone from the source
//   node scripts/chart-sync.mjs --check   change nothing; exit 1 and list the drift (CI)
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const defaultSourceDir = join(repoRoot, 'grafana', 'dashboards');
export const defaultChartDir = join(repoRoot, 'charts', 'livepath', 'dashboards');

const jsonFiles = (dir) =>
  existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => f.endsWith('.json'))
        .sort()
    : [];

/**
 * Compares (and unless check is set, syncs) the dashboards. A missing source folder means "no
 * dashboards yet", not an error: the chart renders with an empty dashboards ConfigMap.
 * @param {{ check?: boolean, sourceDir?: string, chartDir?: string }} [opts]
 * @returns {{ added: string[], changed: string[], removed: string[], inSync: boolean }}
 */
export function syncDashboards(opts = {}) {
  const sourceDir = opts.sourceDir ?? defaultSourceDir;
  const chartDir = opts.chartDir ?? defaultChartDir;
  const source = jsonFiles(sourceDir);
  const chart = new Set(jsonFiles(chartDir));
  const added = [];
  const changed = [];
  for (const f of source) {
    if (!chart.has(f)) added.push(f);
    else if (!readFileSync(join(sourceDir, f)).equals(readFileSync(join(chartDir, f)))) changed.push(f);
  }
  const removed = [...chart].filter((f) => !source.includes(f));
  if (!opts.check) {
    mkdirSync(chartDir, { recursive: true });
    for (const f of [...added, ...changed]) copyFileSync(join(sourceDir, f), join(chartDir, f));
    for (const f of removed) rmSync(join(chartDir, f));
  }
  return { added, changed, removed, inSync: added.length + changed.length + removed.length === 0 };
}

export const ingestSource = join(repoRoot, 'ingest', 'nginx-rtmp.conf');
export const ingestChartCopy = join(repoRoot, 'charts', 'livepath', 'files', 'nginx-rtmp.conf');

/**
 * Compares (and unless check is set, copies) the nginx-rtmp config into the chart.
 * @param {{ check?: boolean }} [opts]
 * @returns {{ inSync: boolean }}
 */
export function syncIngestConfig(opts = {}) {
  const inSync = existsSync(ingestChartCopy) && readFileSync(ingestSource).equals(readFileSync(ingestChartCopy));
  if (!inSync && !opts.check) {
    mkdirSync(dirname(ingestChartCopy), { recursive: true });
    copyFileSync(ingestSource, ingestChartCopy);
  }
  return { inSync };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const check = process.argv.includes('--check');
  const ingest = syncIngestConfig({ check });
  if (check && !ingest.inSync) {
    process.stderr.write(
      'charts/livepath/files/nginx-rtmp.conf differs from ingest/nginx-rtmp.conf\nrun `node scripts/chart-sync.mjs` and commit the result\n',
    );
    process.exit(1);
  }
  if (!ingest.inSync) process.stdout.write('synced charts/livepath/files/nginx-rtmp.conf\n');
  const r = syncDashboards({ check });
  const lines = [
    ...r.added.map((f) => `  + ${f} (new in grafana/dashboards)`),
    ...r.changed.map((f) => `  ~ ${f} (differs from grafana/dashboards)`),
    ...r.removed.map((f) => `  - ${f} (no longer in grafana/dashboards)`),
  ];
  if (check && !r.inSync) {
    process.stderr.write(
      `charts/livepath/dashboards is out of date:\n${lines.join('\n')}\nrun \`node scripts/chart-sync.mjs\` and commit the result\n`,
    );
    process.exit(1);
  }
  process.stdout.write(
    r.inSync ? 'charts/livepath/dashboards is in sync\n' : `synced charts/livepath/dashboards:\n${lines.join('\n')}\n`,
  );
}
