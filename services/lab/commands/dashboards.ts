// `livepath dashboards check`: runs every panel query of the livepath dashboards as an instant
// query against a real Prometheus and reports, per query, whether it ran and returned series —
// a dashboard that silently shows "No data" is the failure this exists to catch.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

import type { Command } from 'commander';
// The dashboards' code (grafana-foundation-sdk) is loaded only when a check runs.
import type { DashboardLike, PanelQuery } from '../../../grafana/queries.js';

/** One query's run time limit; Prometheus' own default is 2 min, far too long for a check. */
const QUERY_TIMEOUT_MS = 10_000;

export type CheckStatus = 'ok' | 'error' | 'empty';

export interface CheckResult extends PanelQuery {
  status: CheckStatus;
  /** Number of series (vector/matrix) or 1 for a scalar; 0 when empty or on error. */
  seriesCount: number;
  /** Prometheus' error message when status is 'error'. */
  message?: string;
}

export interface CheckDashboardsOptions {
  /** Base URL of Prometheus, e.g. http://127.0.0.1:9090 (not the /api/v1 path). */
  prometheusUrl: string;
  /** Folder of dashboard JSON files to check; default: the dashboards built in code. */
  dashboardsDir?: string;
}

/** Prometheus could not be reached at all (refused, DNS, timeout). */
export class PrometheusUnreachableError extends Error {
  override readonly name = 'PrometheusUnreachableError';
  constructor(
    readonly url: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(
      `cannot reach Prometheus at ${url} (${reason}): check --prometheus URL and that Prometheus is running`,
      options,
    );
  }
}

/** Something answered, but not Prometheus' HTTP API. */
export class NotPrometheusApiError extends Error {
  override readonly name = 'NotPrometheusApiError';
  constructor(
    readonly url: string,
    httpStatus: number,
  ) {
    super(
      `${url} answered HTTP ${httpStatus} without a Prometheus API response: pass Prometheus' base URL ` +
        '(e.g. http://127.0.0.1:9090, without /api/v1)',
    );
  }
}

/** The dashboards folder is missing, empty or holds a file that is not JSON. */
export class DashboardsDirError extends Error {
  override readonly name = 'DashboardsDirError';
  constructor(
    readonly dir: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(
      `cannot read dashboards from ${dir}: ${reason}; run \`npm run gen\` or pass the folder of the JSON files`,
      options,
    );
  }
}

export async function checkDashboards(options: CheckDashboardsOptions): Promise<CheckResult[]> {
  const baseUrl = options.prometheusUrl.replace(/\/+$/, '');
  const queries =
    options.dashboardsDir === undefined
      ? (await import('../../../grafana/queries.js')).livepathPanelQueries()
      : (await import('../../../grafana/queries.js')).listPanelQueries(await readDashboards(options.dashboardsDir));
  const results: CheckResult[] = [];
  // One at a time: a few dozen cheap queries, and the host may be running the experiment too.
  for (const query of queries) results.push(await runInstantQuery(baseUrl, query));
  return results;
}

async function readDashboards(dir: string): Promise<DashboardLike[]> {
  let files: string[];
  try {
    files = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();
  } catch (err) {
    throw new DashboardsDirError(dir, (err as NodeJS.ErrnoException).code ?? String(err), { cause: err });
  }
  if (files.length === 0) throw new DashboardsDirError(dir, 'no .json files');
  const dashboards: DashboardLike[] = [];
  for (const file of files) {
    try {
      dashboards.push(JSON.parse(await readFile(path.join(dir, file), 'utf8')) as DashboardLike);
    } catch (err) {
      throw new DashboardsDirError(dir, `${file} is not valid JSON (${(err as Error).message})`, { cause: err });
    }
  }
  return dashboards;
}

interface PromApiResponse {
  status?: 'success' | 'error';
  error?: string;
  errorType?: string;
  data?: { resultType?: string; result?: unknown };
}

async function runInstantQuery(baseUrl: string, query: PanelQuery): Promise<CheckResult> {
  const url = `${baseUrl}/api/v1/query`;
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      // Form-encoded POST: long PromQL never hits URL length limits.
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ query: query.checkExpr, timeout: `${QUERY_TIMEOUT_MS / 1000}s` }),
      signal: AbortSignal.timeout(QUERY_TIMEOUT_MS + 2_000),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause;
    throw new PrometheusUnreachableError(baseUrl, cause?.code ?? (err as Error).message, { cause: err });
  }
  let body: PromApiResponse;
  try {
    body = (await res.json()) as PromApiResponse;
  } catch {
    throw new NotPrometheusApiError(url, res.status);
  }
  if (body.status === 'error') {
    return { ...query, status: 'error', seriesCount: 0, message: `${body.errorType ?? 'error'}: ${body.error ?? ''}` };
  }
  if (body.status !== 'success' || body.data === undefined) throw new NotPrometheusApiError(url, res.status);
  const { resultType, result } = body.data;
  const seriesCount =
    resultType === 'vector' || resultType === 'matrix' ? (Array.isArray(result) ? result.length : 0) : 1;
  return { ...query, status: seriesCount > 0 ? 'ok' : 'empty', seriesCount };
}

/** True when every query ran and returned at least one series. */
export function allQueriesOk(results: readonly CheckResult[]): boolean {
  return results.every((r) => r.status === 'ok');
}

/** A plain-text table, one line per query, and a summary line; for the CLI. */
export function formatCheckResults(results: readonly CheckResult[]): string {
  const rows = results.map((r) => [
    r.status.toUpperCase(),
    r.dashboardUid,
    r.panelTitle,
    r.refId,
    r.status === 'error' ? (r.message ?? '') : r.status === 'ok' ? `${r.seriesCount} series` : 'no series',
  ]);
  const header = ['STATUS', 'DASHBOARD', 'PANEL', 'REF', 'RESULT'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const count = (s: CheckStatus): number => results.filter((r) => r.status === s).length;
  const summary = `${results.length} queries: ${count('ok')} ok, ${count('empty')} empty, ${count('error')} error`;
  const failed = results.filter((r) => r.status !== 'ok');
  const detail = failed.map((r) => `  ${r.dashboardUid} / ${r.panelTitle} / ${r.refId}: ${r.checkExpr}`);
  return [
    line(header),
    ...rows.map(line),
    '',
    summary,
    ...(failed.length > 0 ? ['queries not ok:', ...detail] : []),
  ].join('\n');
}

export function register(program: Command): void {
  program
    .command('dashboards')
    .description('the Grafana dashboards in grafana/')
    .command('check')
    .description("run every dashboard panel's query against a Prometheus; exit 1 when one errors or returns no series")
    .requiredOption('--prometheus <url>', 'Prometheus base URL, e.g. the one `livepath run --prometheus` prints')
    .option('--dashboards <dir>', 'folder of dashboard JSON files (default: the dashboards livepath ships)')
    .action(async (o: { prometheus: string; dashboards?: string }) => {
      const results = await checkDashboards({ prometheusUrl: o.prometheus, dashboardsDir: o.dashboards });
      process.stdout.write(`${formatCheckResults(results)}\n`);
      if (!allQueriesOk(results)) process.exitCode = 1;
    });
}
