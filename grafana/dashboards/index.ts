// The dashboards livepath ships, by the file name each is written to.
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';

import { drilldownDashboard } from './drilldown.js';
import { overviewDashboard } from './overview.js';

/** File name (in grafana/dashboards/) → dashboard, in a fixed order. */
export function livepathDashboards(): Map<string, dashboard.Dashboard> {
  return new Map([
    ['overview.json', overviewDashboard()],
    ['drilldown.json', drilldownDashboard()],
  ]);
}
