// `livepath up test`: the chart's `helm test` hooks, run against a running `livepath up` (read
// from its state directory) the way `helm test` runs them on a cluster: each test pod once
// (restartPolicy Never) within its activeDeadlineSeconds; it passes when its containers exit 0.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isLivepathImage } from './images.js';
import { Pod } from './kubelet.js';
import type { BarePod, Release } from './manifests.js';
import { resolveName, type NetworkTable } from './network.js';
import { RELEASE_FILE, STATE_FILE, type UpState } from './index.js';

export class NoUpRunningError extends Error {}

export interface TestResult {
  name: string;
  ok: boolean;
  /** one line: the phase and why */
  message: string;
  log: string;
}

interface ReleaseFile {
  release: string;
  namespace: string;
  testHooks: BarePod[];
  configMaps: Record<string, Record<string, string>>;
  secrets: Record<string, Record<string, string>>;
  serviceEnv: Record<string, string>;
  livepathImage?: string;
}

export async function runTestHooks(stateDirArg: string, log: (l: string) => void): Promise<TestResult[]> {
  const stateDir = resolve(stateDirArg);
  const statePath = join(stateDir, STATE_FILE);
  if (!existsSync(statePath) || !existsSync(join(stateDir, RELEASE_FILE)))
    throw new NoUpRunningError(
      `no livepath up state in ${stateDir}: start \`livepath up --state ${stateDirArg}\` first`,
    );
  const state = JSON.parse(readFileSync(statePath, 'utf8')) as UpState;
  try {
    process.kill(state.pid, 0);
  } catch {
    throw new NoUpRunningError(`the livepath up of ${stateDir} (pid ${state.pid}) is not running`);
  }
  const rel = JSON.parse(readFileSync(join(stateDir, RELEASE_FILE), 'utf8')) as ReleaseFile;
  const release: Release = {
    release: rel.release,
    namespace: rel.namespace,
    workloads: [],
    services: [],
    configMaps: new Map(Object.entries(rel.configMaps)),
    secrets: new Map(Object.entries(rel.secrets)),
    testHooks: rel.testHooks,
    skipped: new Map(),
  };
  const tablePath = join(stateDir, 'network.json');
  const block = state.pods[0]?.ip.split('.')[1] ?? '100';
  const results: TestResult[] = [];
  let n = 2;
  for (const hook of rel.testHooks) {
    const dir = join(stateDir, 'hooks', hook.metadata.name);
    rmSync(dir, { recursive: true, force: true });
    const pod = new Pod(
      {
        name: hook.metadata.name,
        namespace: rel.namespace,
        ip: `127.${block}.100.${n++}`,
        labels: hook.metadata.labels ?? {},
        annotations: hook.metadata.annotations ?? {},
        spec: { ...hook.spec, restartPolicy: 'Never' },
        dir,
      },
      {
        release,
        serviceEnv: new Map(Object.entries(rel.serviceEnv)),
        tablePath,
        resolve: (host) =>
          resolveName(JSON.parse(readFileSync(tablePath, 'utf8')) as NetworkTable, rel.namespace, host),
        livepathImage: isLivepathImage(rel.livepathImage),
        restartBackoffMs: 0,
        log: (l) => log(`up test: ${l}`),
        changed: () => undefined,
      },
    );
    log(`up test: ${hook.metadata.name} running`);
    const deadlineS = hook.spec.activeDeadlineSeconds;
    let timedOut = false;
    const timer = deadlineS
      ? setTimeout(() => {
          timedOut = true;
          void pod.stop(0);
        }, deadlineS * 1000)
      : undefined;
    const exits = await pod.runOnce();
    clearTimeout(timer);
    await pod.stop(0);
    const ran = exits.filter((e) => !pod.containers.find((c) => c.spec.name === e.name && c.state === 'skipped'));
    const ok = !timedOut && ran.length > 0 && ran.every((e) => e.code === 0);
    const logText = pod.containers
      .map((c) => (existsSync(pod.logPath(c.spec.name)) ? readFileSync(pod.logPath(c.spec.name), 'utf8') : c.reason))
      .join('\n');
    results.push({
      name: hook.metadata.name,
      ok,
      message: timedOut
        ? `Failed: DeadlineExceeded (activeDeadlineSeconds ${deadlineS})`
        : ok
          ? 'Succeeded'
          : `Failed: ${ran.map((e) => `${e.name} ${e.reason}`).join(', ') || 'no container could run'}`,
      log: logText,
    });
  }
  return results;
}
