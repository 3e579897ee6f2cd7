// The cluster the backend talks to: the kubeconfig as kubectl reads it, every API call named by
// its RBAC verb and resource (so a refusal says which permission is missing), pods deleted by uid,
// and list-then-watch until the pods are as wanted (resumed, as client-go's reflector does, when
// a watch drops).
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { AppsV1Api, CoreV1Api, Exec, KubeConfig, Watch, type V1Pod } from '@kubernetes/client-node';
import { ExecError } from './collect.js';
import {
  ApiUnreachableError,
  ForbiddenError,
  KubernetesError,
  NoKubeconfigError,
  PodsNotReadyError,
  UnauthorizedError,
  type CallSite,
} from './errors.js';

const NETWORK_ERRORS = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** The cluster the kubeconfig points at. */
export interface ClusterTarget {
  kc: KubeConfig;
  context: string;
  server: string;
  namespace: string;
  user: string;
}

/** Loads the kubeconfig the way kubectl does (KUBECONFIG list, else ~/.kube/config, else in-cluster). */
export function loadCluster(o: { context?: string; namespace?: string }, env = process.env): ClusterTarget {
  const kc = new KubeConfig();
  const files = env.KUBECONFIG ? env.KUBECONFIG.split(delimiter).filter(Boolean) : [join(homedir(), '.kube', 'config')];
  const present = files.filter((f) => existsSync(f));
  try {
    if (present.length > 0) {
      kc.loadFromFile(present[0]!);
      for (const f of present.slice(1)) {
        const more = new KubeConfig();
        more.loadFromFile(f);
        kc.mergeConfig(more, true);
      }
    } else if (env.KUBERNETES_SERVICE_HOST) kc.loadFromCluster();
    else
      throw new NoKubeconfigError(
        env.KUBECONFIG ? `KUBECONFIG=${env.KUBECONFIG} names no existing file` : `${files[0]} does not exist`,
      );
  } catch (e) {
    if (e instanceof KubernetesError) throw e;
    throw new NoKubeconfigError(
      `cannot read ${present[0] ?? 'the in-cluster config'}: ${(e as Error).message.split('\n')[0]}`,
    );
  }
  if (o.context) {
    if (!kc.getContextObject(o.context))
      throw new NoKubeconfigError(
        `context "${o.context}" is not in the kubeconfig (it has: ${
          kc
            .getContexts()
            .map((c) => c.name)
            .join(', ') || 'none'
        })`,
      );
    kc.setCurrentContext(o.context);
  }
  const context = kc.getCurrentContext();
  const cluster = kc.getCurrentCluster();
  if (!context || !cluster)
    throw new NoKubeconfigError(`${present[0] ?? 'the kubeconfig'} has no current context (pick one with --context)`);
  return {
    kc,
    context,
    server: cluster.server,
    namespace: o.namespace ?? kc.getContextObject(context)?.namespace ?? 'default',
    user: kc.getCurrentUser()?.name ? `user "${kc.getCurrentUser()!.name}"` : 'the current user',
  };
}

/** An API answer other than 401/403 that the caller decides about (404, 409, …). */
export class ApiStatusError extends KubernetesError {
  constructor(
    readonly code: number,
    readonly site: CallSite,
    detail: string,
  ) {
    super(
      `the API server refused to ${site.verb} ${site.resource}${site.name ? ` "${site.name}"` : ''}: ${detail} (${code})`,
    );
  }
}

function statusMessage(body: unknown): string {
  try {
    const s = (typeof body === 'string' ? JSON.parse(body) : body) as { message?: string; reason?: string };
    return s?.message ?? s?.reason ?? 'no details';
  } catch {
    return typeof body === 'string' && body ? body.slice(0, 200) : 'no details';
  }
}

/** The API calls of the backend, each named by its RBAC verb/resource so errors can say which. */
export class ClusterApi {
  readonly apps: AppsV1Api;
  readonly core: CoreV1Api;
  readonly exec: Exec;
  readonly watcher: Watch;

  constructor(readonly t: ClusterTarget) {
    this.apps = t.kc.makeApiClient(AppsV1Api);
    this.core = t.kc.makeApiClient(CoreV1Api);
    this.exec = new Exec(t.kc);
    this.watcher = new Watch(t.kc);
  }

  async call<T>(site: CallSite, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw this.toError(e, site);
    }
  }

  toError(e: unknown, site: CallSite): Error {
    if (e instanceof KubernetesError) return e;
    const err = e as {
      code?: unknown;
      statusCode?: unknown;
      body?: unknown;
      message?: string;
      errno?: unknown;
      cause?: { code?: unknown };
    };
    const status =
      typeof err.code === 'number'
        ? err.code
        : typeof err.statusCode === 'number'
          ? err.statusCode
          : e instanceof ExecError
            ? e.httpStatus
            : undefined;
    if (status === 401) return new UnauthorizedError(this.t.server, this.t.context);
    if (status === 403) return new ForbiddenError(site.verb, site.resource, this.t.namespace, this.t.user);
    if (status !== undefined) return new ApiStatusError(status, site, statusMessage(err.body ?? err.message));
    const net = [err.code, err.cause?.code].find((c) => typeof c === 'string' && NETWORK_ERRORS.has(c));
    if (net || /ECONNREFUSED|ENOTFOUND|socket hang up|connect ETIMEDOUT/.test(err.message ?? ''))
      return new ApiUnreachableError(this.t.server, this.t.context, String(net ?? err.message));
    if (e instanceof ExecError) return new KubernetesError(e.message);
    return e instanceof Error ? e : new Error(String(e));
  }
}

export function isReady(p: V1Pod): boolean {
  return (
    !p.metadata?.deletionTimestamp &&
    p.status?.phase === 'Running' &&
    (p.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True')
  );
}

export function waitingReason(p: V1Pod): string {
  const cs = [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])];
  const w = cs
    .map(
      (c) =>
        c.state?.waiting?.reason ??
        (c.state?.terminated ? `terminated: ${c.state.terminated.reason ?? c.state.terminated.exitCode}` : undefined),
    )
    .find(Boolean);
  return w ?? p.status?.phase ?? 'Pending';
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((r) => {
    if (signal?.aborted || ms <= 0) return r();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      r();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Deletes a pod, but only the one observed (uid precondition): 409/404 mean it is already replaced or gone. */
export async function deletePod(
  api: ClusterApi,
  ns: string,
  p: V1Pod,
  log: (l: string) => void,
  gracePeriodSeconds?: number,
): Promise<void> {
  const name = p.metadata!.name!;
  try {
    await api.call({ verb: 'delete', resource: 'pods', name }, () =>
      api.core.deleteNamespacedPod({
        name,
        namespace: ns,
        gracePeriodSeconds,
        body: { preconditions: { uid: p.metadata?.uid } },
      }),
    );
  } catch (e) {
    if (e instanceof ApiStatusError && (e.code === 404 || e.code === 409)) {
      log(`kubernetes: pod ${name} was already ${e.code === 404 ? 'gone' : 'replaced'}`);
      return;
    }
    throw e;
  }
}

/**
 * Lists then watches the release's pods until `check` says done. A watch that disconnects (or
 * answers 410 Gone) is resumed from a fresh list, as client-go's reflector does.
 */
export async function waitForPods(
  api: ClusterApi,
  ns: string,
  labelSelector: string,
  timeoutMs: number,
  signal: AbortSignal | undefined,
  log: (l: string) => void,
  check: (pods: Map<string, V1Pod>) => { done: boolean; line: string },
): Promise<Map<string, V1Pod>> {
  const deadline = Date.now() + timeoutMs;
  const pods = new Map<string, V1Pod>();
  let lastLine = '';
  const evaluate = () => {
    const r = check(pods);
    if (r.line !== lastLine) {
      lastLine = r.line;
      log(r.line);
    }
    return r.done;
  };
  for (;;) {
    const list = await api.call({ verb: 'list', resource: 'pods' }, () =>
      api.core.listNamespacedPod({ namespace: ns, labelSelector }),
    );
    pods.clear();
    for (const p of list.items) pods.set(p.metadata!.name!, p);
    if (evaluate()) return pods;
    if (signal?.aborted) throw new PodsNotReadyError('interrupted while waiting for the pods');
    if (Date.now() >= deadline)
      throw new PodsNotReadyError(
        `pods not ready after ${Math.round(timeoutMs / 1000)} s: ${lastLine.replace(/^kubernetes: /, '')}`,
      );
    const path = `/api/v1/namespaces/${encodeURIComponent(ns)}/pods`;
    const outcome = await new Promise<'done' | 'resync' | Error>((resolve) => {
      let controller: AbortController | undefined;
      let settled = false;
      const settle = (v: 'done' | 'resync' | Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        controller?.abort();
        resolve(v);
      };
      const onAbort = () => settle('resync');
      const timer = setTimeout(() => settle('resync'), Math.max(0, deadline - Date.now()));
      signal?.addEventListener('abort', onAbort, { once: true });
      api.watcher
        .watch(
          path,
          { labelSelector, resourceVersion: list.metadata?.resourceVersion, allowWatchBookmarks: true },
          (type, obj: V1Pod) => {
            if (type === 'ERROR') return settle('resync'); // e.g. 410 Gone: the resourceVersion is too old
            if (type === 'BOOKMARK') return;
            const name = obj.metadata?.name;
            if (!name) return;
            if (type === 'DELETED') pods.delete(name);
            else pods.set(name, obj);
            if (evaluate()) settle('done');
          },
          (err: unknown) => settle(err ? api.toError(err, { verb: 'watch', resource: 'pods' }) : 'resync'),
        )
        .then(
          (c) => {
            controller = c;
            if (settled) c.abort();
          },
          (err: unknown) => settle(api.toError(err, { verb: 'watch', resource: 'pods' })),
        );
    });
    if (outcome === 'done') return pods;
    if (outcome instanceof Error) {
      // A dropped connection is resumed; a refusal (401/403/unreachable) is the user's to fix.
      if (
        outcome instanceof UnauthorizedError ||
        outcome instanceof ForbiddenError ||
        outcome instanceof ApiUnreachableError
      )
        throw outcome;
      log(`kubernetes: pod watch ended (${outcome.message}); listing again`);
    }
  }
}
