// Keeps the chart's copy of the Grafana dashboards (charts/livepath/dashboards/*.json) identical to
// the generated ones in grafana/dashboards/*.json, because Helm can only ship files inside the chart.
//   node scripts/chart-sync.mjs           copy new/changed dashboards, delete ones gone from the source
//   node scripts/chart-sync.mjs --check   change nothing; exit 1 and list the drift (CI)
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const defaultSourceDir = join(repoRoot, 'grafana', 'dashboards');
export const defaultChartDir = join(repoRoot, 'charts', 'livepath', 'dashboards');

const jsonFiles = (dir) => (existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.json')).sort() : []);

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

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const check = process.argv.includes('--check');
  const r = syncDashboards({ check });
  const lines = [
    ...r.added.map((f) => `  + ${f} (new in grafana/dashboards)`),
    ...r.changed.map((f) => `  ~ ${f} (differs from grafana/dashboards)`),
    ...r.removed.map((f) => `  - ${f} (no longer in grafana/dashboards)`),
  ];
  if (check && !r.inSync) {
    process.stderr.write(`charts/livepath/dashboards is out of date:\n${lines.join('\n')}\nrun \`node scripts/chart-sync.mjs\` and commit the result\n`);
    process.exit(1);
  }
  process.stdout.write(r.inSync ? 'charts/livepath/dashboards is in sync\n' : `synced charts/livepath/dashboards:\n${lines.join('\n')}\n`);
}
