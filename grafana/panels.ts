// Shared pieces of the livepath dashboards: the data source variable and reference every panel
// uses, PromQL helpers for histogram percentiles and rates, and the base panel builders.
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as prometheus from '@grafana/grafana-foundation-sdk/prometheus';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';

import { DATASOURCE_VARIABLE } from './constants.js';

/** Every panel and query points at the `$datasource` variable, never at a fixed data source uid. */
export const datasourceRef: common.DataSourceRef = {
  type: 'prometheus',
  uid: `\${${DATASOURCE_VARIABLE}}`,
};

export function datasourceVariable(): dashboard.DatasourceVariableBuilder {
  return new dashboard.DatasourceVariableBuilder(DATASOURCE_VARIABLE).label('Data source').type('prometheus');
}

/** One PromQL query of a panel; refIds are A, B, C… in the order given. */
export interface PanelQuery {
  expr: string;
  legend: string;
}

/** histogram_quantile over the rate of a histogram's buckets, grouped by `by` (plus le). */
export function quantileExpr(q: number, histogram: string, by: readonly string[] = []): string {
  const groups = ['le', ...by].join(', ');
  return `histogram_quantile(${q}, sum by (${groups}) (rate(${histogram}_bucket[$__rate_interval])))`;
}

/** Per-second rate of a counter summed by `by` (or into one series when `by` is empty). */
export function rateExpr(counter: string, by: readonly string[] = [], selector = ''): string {
  const sum = by.length > 0 ? `sum by (${by.join(', ')})` : 'sum';
  return `${sum} (rate(${counter}${selector}[$__rate_interval]))`;
}

/** p-labelled percentile queries of one histogram, e.g. legend "{{path}} p95". */
export function quantileQueries(
  histogram: string,
  quantiles: readonly number[],
  by: readonly string[] = [],
): PanelQuery[] {
  const prefix = by.map((l) => `{{${l}}}`).join(' ');
  return quantiles.map((q) => ({
    expr: quantileExpr(q, histogram, by),
    legend: `${prefix}${prefix ? ' ' : ''}p${Math.round(q * 100)}`,
  }));
}

function targets(queries: readonly PanelQuery[]): prometheus.DataqueryBuilder[] {
  return queries.map((q, i) =>
    new prometheus.DataqueryBuilder()
      .datasource(datasourceRef)
      .expr(q.expr)
      .legendFormat(q.legend)
      .refId(String.fromCharCode(65 + i)),
  );
}

export interface PanelSpec {
  title: string;
  description: string;
  /** Grafana unit id: s, percentunit, bytes, Bps, cps, short, none … */
  unit: string;
  queries: PanelQuery[];
  /** Grid width out of 24. */
  span?: number;
  height?: number;
}

/** A time series panel: the default for anything that changes during a run. */
export function timeseriesPanel(spec: PanelSpec): timeseries.PanelBuilder {
  const panel = new timeseries.PanelBuilder()
    .title(spec.title)
    .description(spec.description)
    .datasource(datasourceRef)
    .unit(spec.unit)
    .span(spec.span ?? 12)
    .height(spec.height ?? 8)
    .lineWidth(1)
    .fillOpacity(0)
    .showPoints(common.VisibilityMode.Never)
    .legend(
      new common.VizLegendOptionsBuilder()
        .showLegend(true)
        .placement(common.LegendPlacement.Bottom)
        .displayMode(common.LegendDisplayMode.List),
    )
    .tooltip(
      new common.VizTooltipOptionsBuilder().mode(common.TooltipDisplayMode.Multi).sort(common.SortOrder.Descending),
    );
  for (const t of targets(spec.queries)) panel.withTarget(t);
  return panel;
}

/** A single-number panel for "right now" values (offload, viewers). */
export function statPanel(spec: PanelSpec): stat.PanelBuilder {
  const panel = new stat.PanelBuilder()
    .title(spec.title)
    .description(spec.description)
    .datasource(datasourceRef)
    .unit(spec.unit)
    .span(spec.span ?? 6)
    .height(spec.height ?? 4)
    .graphMode(common.BigValueGraphMode.Area)
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false));
  for (const t of targets(spec.queries)) panel.withTarget(t);
  return panel;
}

/** Numbers panels 1, 2, 3… in layout order so panel links (viewPanel=) stay stable. */
export function numberPanels(built: dashboard.Dashboard): dashboard.Dashboard {
  let id = 1;
  for (const panel of built.panels ?? []) {
    panel.id = id++;
    if ('panels' in panel && Array.isArray(panel.panels)) for (const inner of panel.panels) inner.id = id++;
  }
  return built;
}
