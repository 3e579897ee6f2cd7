// The frame both livepath dashboards share: data source variable, time range, refresh, and the
// link bar that jumps between overview and drilldown.
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';

import { DASHBOARD_REFRESH, DASHBOARD_TAG, DASHBOARD_TIME_FROM } from '../constants.js';
import { datasourceVariable } from '../panels.js';

export function livepathDashboard(uid: string, title: string, description: string): dashboard.DashboardBuilder {
  return new dashboard.DashboardBuilder(title)
    .uid(uid)
    .description(description)
    .tags([DASHBOARD_TAG])
    .editable()
    .tooltip(dashboard.DashboardCursorSync.Crosshair)
    .refresh(DASHBOARD_REFRESH)
    .time({ from: DASHBOARD_TIME_FROM, to: 'now' })
    .timezone('browser')
    .withVariable(datasourceVariable())
    .link(
      new dashboard.DashboardLinkBuilder('livepath')
        .type(dashboard.DashboardLinkType.Dashboards)
        .tags([DASHBOARD_TAG])
        .asDropdown(false)
        .includeVars(true)
        .keepTime(true),
    );
}
