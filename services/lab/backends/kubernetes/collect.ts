// Collection: reads a pod's raw result files through the Kubernetes exec API. The image is distroless (no
// shell, no cat, no tar, so `kubectl cp` cannot work): the command run in the container is the
// image's own node, with a one-line script that lists or streams a file to stdout.
import { createWriteStream } from 'node:fs';
import { PassThrough, Writable } from 'node:stream';
import { join } from 'node:path';
import type { Exec, V1Pod, V1Status } from '@kubernetes/client-node';
import { CONTAINER, LABEL, POD_NODE, POD_RESULTS_DIR, type Role } from './chart.js';
import type { ClusterApi } from './cluster.js';
import type { CallSite } from './errors.js';

const LIST_SCRIPT =
  "try{for(const f of require('fs').readdirSync(process.argv[1]))process.stdout.write(f+'\\n')}catch(e){if(e.code!=='ENOENT')throw e}";
const CAT_SCRIPT = "require('fs').createReadStream(process.argv[1]).pipe(process.stdout)";

export class ExecError extends Error {
  constructor(
    message: string,
    /** HTTP status of a refused upgrade (401, 403, 404), if that is what happened */
    readonly httpStatus?: number,
  ) {
    super(message);
  }
}

export interface PodRef {
  namespace: string;
  pod: string;
  container: string;
}

/** Runs `command` in the pod; stdout goes to `out`. Resolves when the command exited 0. */
export async function execToStream(exec: Exec, ref: PodRef, command: string[], out: Writable): Promise<void> {
  const stderr = new PassThrough();
  let errText = '';
  stderr.on('data', (d: Buffer) => (errText += d.toString('utf8')));
  let status: V1Status | undefined;
  const finished = new Promise<void>((resolve) => out.once('finish', () => resolve()));
  let ws: Awaited<ReturnType<Exec['exec']>>;
  try {
    ws = await exec.exec(ref.namespace, ref.pod, ref.container, command, out, stderr, null, false, (s) => (status = s));
  } catch (e) {
    const m = /Unexpected server response: (\d+)/.exec(String((e as Error).message ?? e));
    throw new ExecError(
      `exec in pod ${ref.pod} failed: ${(e as Error).message ?? String(e)}`,
      m ? Number(m[1]) : undefined,
    );
  }
  await new Promise<void>((resolve) => {
    if (ws.readyState === ws.CLOSED) resolve();
    else ws.on('close', () => resolve());
  });
  if (!status) {
    out.destroy();
    throw new ExecError(
      `exec in pod ${ref.pod} was cut off before the command finished (connection closed without a status)`,
    );
  }
  if (status.status !== 'Success') {
    out.destroy();
    throw new ExecError(
      `\`${command.slice(0, 2).join(' ')} …\` in pod ${ref.pod} failed: ${status.message ?? status.reason ?? 'unknown'}${errText ? ` (${errText.trim().split('\n')[0]})` : ''}`,
    );
  }
  await finished;
}

/** File names in the pod's results directory ([] when it has written none yet). */
export async function listResultFiles(exec: Exec, ref: PodRef, dir = POD_RESULTS_DIR): Promise<string[]> {
  let text = '';
  const out = new Writable({
    write(chunk: Buffer, _enc, cb) {
      text += chunk.toString('utf8');
      cb();
    },
  });
  await execToStream(exec, ref, [POD_NODE, '-e', LIST_SCRIPT, dir], out);
  return text.split('\n').filter(Boolean).sort();
}

/** Copies one file out of the pod to `dest`. */
export async function copyResultFile(
  exec: Exec,
  ref: PodRef,
  name: string,
  dest: string,
  dir = POD_RESULTS_DIR,
): Promise<void> {
  await execToStream(exec, ref, [POD_NODE, '-e', CAT_SCRIPT, `${dir}/${name}`], createWriteStream(dest));
}

/** One file of the pod's results directory as text. */
export async function readResultFile(exec: Exec, ref: PodRef, name: string, dir = POD_RESULTS_DIR): Promise<string> {
  let text = '';
  const out = new Writable({
    write(chunk: Buffer, _enc, cb) {
      text += chunk.toString('utf8');
      cb();
    },
  });
  await execToStream(exec, ref, [POD_NODE, '-e', CAT_SCRIPT, `${dir}/${name}`], out);
  return text;
}

/** The livepath container of a pod of the release (exec runs there). */
export function podRef(namespace: string, p: V1Pod): PodRef {
  const role = p.metadata?.labels?.[LABEL.role] as Role | undefined;
  const names = (p.spec?.containers ?? []).map((c) => c.name);
  const container = role && names.includes(CONTAINER[role]) ? CONTAINER[role] : (names[0] ?? '');
  return { namespace, pod: p.metadata!.name!, container };
}

/** Copies <results>/<x>.<rest> of a pod to rawDir/<proc>.<rest>. */
export async function collectPod(
  api: ClusterApi,
  ns: string,
  p: V1Pod,
  proc: string,
  rawDir: string,
  log: (l: string) => void,
): Promise<void> {
  const ref = podRef(ns, p);
  const site: CallSite = { verb: 'create', resource: 'pods/exec', name: ref.pod };
  const files = await api.call(site, () => listResultFiles(api.exec, ref));
  for (const f of files) {
    const dot = f.indexOf('.');
    if (dot <= 0) continue;
    await api.call(site, () => copyResultFile(api.exec, ref, f, join(rawDir, `${proc}${f.slice(dot)}`)));
  }
  log(`kubernetes: collected ${files.length} files from ${ref.pod}`);
}
