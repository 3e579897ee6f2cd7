// Tests of the dashboards as code: stable uids, every panel on the $datasource variable with a
// unit, generated JSON equal to the committed files, queries that name real livepath metrics.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';

import { DASHBOARDS_DIR, renderDashboards } from '../../grafana/build.js';
import { livepathDashboards } from '../../grafana/dashboards/index.js';
import { livepathPanelQueries, substituteMacros, type PanelLike } from '../../grafana/queries.js';
import { createMetrics, METRIC_NAMES } from '../../services/metrics/index.js';

interface PanelJson extends PanelLike {
  datasource?: { type?: string; uid?: string };
  fieldConfig?: { defaults?: { unit?: string } };
  gridPos?: { x: number; y: number; w: number; h: number };
  targets?: { refId?: string; expr?: string; datasource?: { type?: string; uid?: string } }[];
  panels?: PanelJson[];
}

/** Parsed committed dashboards, by file name. */
async function committed(): Promise<
  Map<
    string,
    { uid: string; panels: PanelJson[]; templating: { list: { type: string; name: string; query: string }[] } }
  >
> {
  const out = new Map();
  for (const file of renderDashboards().keys()) {
    out.set(file, JSON.parse(await readFile(path.join(DASHBOARDS_DIR, file), 'utf8')));
  }
  return out;
}

function leafPanels(panels: readonly PanelJson[]): PanelJson[] {
  return panels.flatMap((p) => (p.type === 'row' ? leafPanels(p.panels ?? []) : [p]));
}

describe('livepath dashboards', () => {
  it('keeps stable uids and file names', () => {
    const uids = [...livepathDashboards()].map(([file, d]) => [file, d.uid]);
    assert.deepEqual(uids, [
      ['overview.json', 'livepath-overview'],
      ['drilldown.json', 'livepath-drilldown'],
    ]);
  });

  it('generates the same JSON as the committed files (run `npm run gen` after editing grafana/)', async () => {
    for (const [file, text] of renderDashboards()) {
      const onDisk = await readFile(path.join(DASHBOARDS_DIR, file), 'utf8');
      assert.equal(onDisk, text, `grafana/dashboards/${file} is stale: run npm run gen`);
    }
  });

  it('generates deterministic JSON', () => {
    assert.deepEqual([...renderDashboards()], [...renderDashboards()]);
  });

  it('has a prometheus datasource variable that every panel and query uses', async () => {
    for (const [file, d] of await committed()) {
      const variable = d.templating.list.find((v) => v.name === 'datasource');
      assert.ok(variable, `${file}: no datasource variable`);
      assert.equal(variable.type, 'datasource');
      assert.equal(variable.query, 'prometheus');
      const panels = leafPanels(d.panels);
      assert.ok(panels.length >= 6, `${file}: only ${panels.length} panels`);
      for (const panel of panels) {
        assert.deepEqual(panel.datasource, { type: 'prometheus', uid: '${datasource}' }, `${file} / ${panel.title}`);
        assert.ok((panel.targets ?? []).length > 0, `${file} / ${panel.title}: no queries`);
        for (const target of panel.targets ?? []) {
          assert.deepEqual(
            target.datasource,
            { type: 'prometheus', uid: '${datasource}' },
            `${file} / ${panel.title} / ${target.refId}`,
          );
        }
      }
    }
  });

  it('sets a unit on every panel, seconds on delay panels', async () => {
    const knownUnits = new Set(['s', 'percentunit', 'bytes', 'Bps', 'cps', 'short', 'none']);
    for (const [file, d] of await committed()) {
      for (const panel of leafPanels(d.panels)) {
        const unit = panel.fieldConfig?.defaults?.unit;
        assert.ok(unit !== undefined && knownUnits.has(unit), `${file} / ${panel.title}: unit ${unit}`);
        if (/delay|join time|emulation error|bound/i.test(panel.title ?? ''))
          assert.equal(unit, 's', `${file} / ${panel.title}`);
        if (/offload|rtt error/i.test(panel.title ?? '')) assert.equal(unit, 'percentunit', `${file} / ${panel.title}`);
      }
    }
  });

  it('numbers panels uniquely and keeps them inside the 24-column grid', async () => {
    for (const [file, d] of await committed()) {
      const ids = d.panels.map((p) => p.id);
      assert.equal(new Set(ids).size, ids.length, `${file}: duplicate panel ids`);
      for (const p of d.panels) {
        assert.ok(p.gridPos && p.gridPos.x + p.gridPos.w <= 24, `${file} / ${p.title}: outside the grid`);
      }
    }
  });

  it('only queries metrics that createMetrics registers', () => {
    const registered = new Set<string>(Object.values(METRIC_NAMES));
    const m = createMetrics({ role: 'lab', processMetrics: false });
    assert.equal(m.registry.getMetricsAsArray().length, registered.size);
    const queries = livepathPanelQueries();
    assert.ok(queries.length > 20);
    const used = new Set<string>();
    for (const q of queries) {
      for (const [name] of q.expr.matchAll(/livepath_[a-z_]+/g)) {
        const base = name.replace(/_(bucket|sum|count)$/, '');
        assert.ok(registered.has(base), `${q.dashboardUid} / ${q.panelTitle}: unknown metric ${name}`);
        used.add(base);
      }
    }
    // Every metric is shown somewhere: a metric nobody can see is a metric nobody checks.
    assert.deepEqual(
      [...registered].filter((n) => !used.has(n)),
      [],
    );
  });

  it('draws offload as the peer share of delivered bytes', () => {
    const offload = livepathPanelQueries().find((q) => q.panelTitle === 'Offload');
    assert.equal(
      offload?.checkExpr,
      'sum (rate(livepath_delivered_bytes_total{path="peer"}[1m])) / sum (rate(livepath_delivered_bytes_total[1m]))',
    );
  });
});

describe('substituteMacros', () => {
  it('replaces the interval macros in both spellings and leaves other variables alone', () => {
    assert.equal(substituteMacros('rate(x[$__rate_interval])'), 'rate(x[1m])');
    assert.equal(substituteMacros('rate(x[${__rate_interval}])'), 'rate(x[1m])');
    assert.equal(substituteMacros('avg_over_time(x[$__interval])'), 'avg_over_time(x[15s])');
    assert.equal(substituteMacros('x * $__interval_ms'), 'x * $__interval_ms');
    assert.equal(substituteMacros('x{region="$region"}'), 'x{region="$region"}');
  });

  it('leaves no $ in any livepath panel query', () => {
    for (const q of livepathPanelQueries()) assert.doesNotMatch(q.checkExpr, /\$/, `${q.panelTitle}: ${q.checkExpr}`);
  });
});

describe('grafana provisioning', () => {
  const provisioningDir = path.join(DASHBOARDS_DIR, '..', 'provisioning');

  it('provides an editable Prometheus data source at localhost:9090', async () => {
    const file = parseYaml(await readFile(path.join(provisioningDir, 'datasources', 'livepath.yaml'), 'utf8')) as {
      apiVersion: number;
      datasources: { type: string; url: string; editable: boolean; access: string }[];
    };
    assert.equal(file.apiVersion, 1);
    assert.equal(file.datasources.length, 1);
    assert.deepEqual(
      { type: file.datasources[0]!.type, url: file.datasources[0]!.url, editable: file.datasources[0]!.editable },
      { type: 'prometheus', url: 'http://localhost:9090', editable: true },
    );
  });

  it('loads the dashboards folder with a file provider', async () => {
    const file = parseYaml(await readFile(path.join(provisioningDir, 'dashboards', 'livepath.yaml'), 'utf8')) as {
      apiVersion: number;
      providers: { type: string; options: { path: string } }[];
    };
    assert.equal(file.apiVersion, 1);
    assert.equal(file.providers[0]?.type, 'file');
    assert.match(file.providers[0]?.options.path ?? '', /^\/.+dashboards/);
  });
});
