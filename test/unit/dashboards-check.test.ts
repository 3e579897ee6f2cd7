// Tests of `livepath dashboards check` against a stand-in Prometheus HTTP API: each query is
// classified ok / empty / error from Prometheus' answer, and an unreachable URL is one clear error.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import {
  allQueriesOk,
  checkDashboards,
  DashboardsDirError,
  formatCheckResults,
  NotPrometheusApiError,
  PrometheusUnreachableError,
} from '../../services/lab/commands/dashboards.js';

/** Answers like Prometheus: a syntax error for "bad(", no series for "absent", one series otherwise. */
function fakePrometheus(): http.Server {
  return http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      if (req.url !== '/api/v1/query' || req.method !== 'POST') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('404 page not found\n');
        return;
      }
      const query = new URLSearchParams(body).get('query') ?? '';
      res.setHeader('content-type', 'application/json');
      if (query.includes('bad(')) {
        res.writeHead(400).end(
          JSON.stringify({
            status: 'error',
            errorType: 'bad_data',
            error: '1:1: parse error: unexpected end of input',
          }),
        );
      } else if (query.includes('absent')) {
        res.end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [] } }));
      } else {
        res.end(
          JSON.stringify({
            status: 'success',
            data: { resultType: 'vector', result: [{ metric: { q: query }, value: [0, '1'] }] },
          }),
        );
      }
    });
  });
}

describe('checkDashboards', () => {
  let server: http.Server;
  let url: string;
  let dir: string;

  before(async () => {
    server = fakePrometheus();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    dir = await mkdtemp(path.join(os.tmpdir(), 'livepath-dashboards-'));
    const dashboard = {
      uid: 'test-dash',
      title: 'test',
      panels: [
        {
          id: 1,
          type: 'row',
          title: 'row',
          panels: [{ id: 2, title: 'Collapsed', targets: [{ refId: 'A', expr: 'up' }] }],
        },
        {
          id: 3,
          type: 'timeseries',
          title: 'Mixed',
          targets: [
            { refId: 'A', expr: 'sum(rate(livepath_stalls_total[$__rate_interval]))' },
            { refId: 'B', expr: 'absent_metric' },
            { refId: 'C', expr: 'bad(' },
          ],
        },
      ],
    };
    await writeFile(path.join(dir, 'test.json'), JSON.stringify(dashboard));
  });

  after(async () => {
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  it('classifies each query of a dashboards folder as ok, empty or error, with Prometheus’ message', async () => {
    const results = await checkDashboards({ prometheusUrl: `${url}/`, dashboardsDir: dir });
    assert.deepEqual(
      results.map((r) => [r.panelTitle, r.refId, r.status, r.seriesCount]),
      [
        ['Collapsed', 'A', 'ok', 1],
        ['Mixed', 'A', 'ok', 1],
        ['Mixed', 'B', 'empty', 0],
        ['Mixed', 'C', 'error', 0],
      ],
    );
    assert.equal(results[1]?.checkExpr, 'sum(rate(livepath_stalls_total[1m]))');
    assert.match(results[3]?.message ?? '', /bad_data: 1:1: parse error/);
    assert.equal(allQueriesOk(results), false);

    const table = formatCheckResults(results);
    assert.match(table, /^STATUS\s+DASHBOARD\s+PANEL\s+REF\s+RESULT$/m);
    assert.match(table, /^EMPTY\s+test-dash\s+Mixed\s+B\s+no series$/m);
    assert.match(table, /^4 queries: 2 ok, 1 empty, 1 error$/m);
    assert.match(table, /test-dash \/ Mixed \/ C: bad\(/);
  });

  it('checks the dashboards built in code when no folder is given', async () => {
    const results = await checkDashboards({ prometheusUrl: url });
    assert.ok(results.length > 20);
    assert.ok(allQueriesOk(results));
    assert.ok(results.every((r) => !r.checkExpr.includes('$')));
    assert.ok(new Set(results.map((r) => r.dashboardUid)).has('livepath-drilldown'));
  });

  it('fails with one actionable error when Prometheus is unreachable or is not Prometheus', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise((resolve) => closed.close(resolve));
    await assert.rejects(checkDashboards({ prometheusUrl: closedUrl }), (err: unknown) => {
      assert.ok(err instanceof PrometheusUnreachableError);
      assert.match(err.message, /ECONNREFUSED.*--prometheus URL/);
      return true;
    });
    await assert.rejects(checkDashboards({ prometheusUrl: `${url}/api/v1` }), NotPrometheusApiError);
  });

  it('reports a missing dashboards folder', async () => {
    await assert.rejects(
      checkDashboards({ prometheusUrl: url, dashboardsDir: path.join(dir, 'nope') }),
      (err: unknown) => err instanceof DashboardsDirError && /ENOENT.*npm run gen/.test(err.message),
    );
  });
});
