// Lists every PromQL expression of the livepath dashboards, with Grafana's interval macros
// replaced by fixed durations, so a check can run each one against a real Prometheus.
import { MACRO_SUBSTITUTIONS } from './constants.js';
import { livepathDashboards } from './dashboards/index.js';

/** The part of a dashboard (SDK object or parsed JSON file) the query listing reads. */
export interface DashboardLike {
  uid?: string;
  title?: string;
  panels?: readonly PanelLike[];
}
export interface PanelLike {
  id?: number;
  type?: string;
  title?: string;
  targets?: readonly { refId?: string; expr?: string }[];
  /** rows carry their (collapsed) panels here */
  panels?: readonly PanelLike[];
}

export interface PanelQuery {
  dashboardUid: string;
  dashboardTitle: string;
  panelId: number | undefined;
  panelTitle: string;
  refId: string;
  /** As written in the dashboard. */
  expr: string;
  /** With $__rate_interval, $__interval and $__range substituted: runnable as an instant query. */
  checkExpr: string;
}

const MACRO_PATTERN = /\$\{?(__rate_interval|__interval|__range)\}?(?![A-Za-z0-9_])/g;

/** Replaces Grafana's interval macros by the durations in MACRO_SUBSTITUTIONS. */
export function substituteMacros(expr: string): string {
  return expr.replace(MACRO_PATTERN, (match, name: string) => MACRO_SUBSTITUTIONS[`$${name}`] ?? match);
}

/** Every Prometheus query of the given dashboards, in panel order, rows included. */
export function listPanelQueries(dashboards: Iterable<DashboardLike>): PanelQuery[] {
  const out: PanelQuery[] = [];
  for (const d of dashboards) {
    const visit = (panels: readonly PanelLike[] | undefined): void => {
      for (const panel of panels ?? []) {
        for (const target of panel.targets ?? []) {
          if (typeof target.expr !== 'string' || target.expr.trim() === '') continue;
          out.push({
            dashboardUid: d.uid ?? '',
            dashboardTitle: d.title ?? '',
            panelId: panel.id,
            panelTitle: panel.title ?? '',
            refId: target.refId ?? '',
            expr: target.expr,
            checkExpr: substituteMacros(target.expr),
          });
        }
        visit(panel.panels);
      }
    };
    visit(d.panels);
  }
  return out;
}

/** Every query of the dashboards livepath ships, built from the code (no JSON files needed). */
export function livepathPanelQueries(): PanelQuery[] {
  return listPanelQueries(livepathDashboards().values() as Iterable<DashboardLike>);
}
