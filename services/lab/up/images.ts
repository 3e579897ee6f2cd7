// Which local program runs each image of the chart. The livepath image is this checkout's CLI
// (node, with the network hook), started with the container's exact args and env. The others run
// the program the image would, from this machine, where it is installed: nginx with the RTMP
// module for the ingest sidecar, prometheus for the bundled Prometheus. Their config files are
// rewritten only where a container's network differs from a process on loopback (listen
// addresses, cluster names); what cannot run here is skipped, and says why.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { packageFile } from '../../runtime/package.js';
import { parse, stringify } from 'yaml';
import { CLI_PATH } from '../backends/procs.js';
import { findRtmpModule } from '../../origin/ingest/nginx.js';
import type { ContainerSpec } from './manifests.js';

/** The hook's compiled module (it runs in plain node, from dist/ also when this runs from source). */
export const HOOK_PATH = packageFile('dist', 'services', 'lab', 'up', 'hook.js');

export interface Launch {
  command: string;
  args: string[];
  /** environment added to the container's own (the hook's pod description, TMPDIR) */
  extraEnv: Record<string, string>;
  /** what `up` changed, for the log */
  note?: string;
}

export interface LaunchContext {
  podIP: string;
  /** the container's command and args, $(VAR)-expanded and with mount paths mapped */
  command?: string[];
  args: string[];
  /** a path inside the container → where it is on this machine */
  mapPath(p: string): string;
  /** mount paths inside text (config files) */
  mapText(t: string): string;
  /** cluster name (host or host:port) → address as the pod's DNS answers */
  resolve(host: string): string[] | undefined;
  /** a writable directory of this container's own for rewritten configs */
  scratch: string;
  /** images run as livepath (its repository's last segment, default "livepath") */
  livepathImage: (image: string) => boolean;
}

export type LaunchPlan = Launch | { skip: string };

function has(bin: string): boolean {
  return spawnSync(bin, ['--version'], { stdio: 'ignore' }).error === undefined;
}

function repository(image: string): string {
  const noDigest = image.split('@')[0]!;
  const lastColon = noDigest.lastIndexOf(':');
  return lastColon > noDigest.lastIndexOf('/') ? noDigest.slice(0, lastColon) : noDigest;
}

export function isLivepathImage(repo?: string): (image: string) => boolean {
  return (image) => (repo ? repository(image) === repo : repository(image).split('/').pop() === 'livepath');
}

export function launchFor(c: ContainerSpec, ctx: LaunchContext): LaunchPlan {
  const repo = repository(c.image);
  if (ctx.livepathImage(c.image)) return livepath(c, ctx);
  if (/nginx-rtmp|(^|\/)nginx$/.test(repo)) return nginx(c, ctx);
  if (/(^|\/)prometheus$/.test(repo)) return prometheus(ctx);
  if (/(^|\/)grafana$/.test(repo))
    return {
      skip: `no local Grafana: image ${c.image} is not run (its dashboards are checked against Prometheus instead)`,
    };
  if (ctx.command?.[0] === 'tc' || ctx.args.includes('netem'))
    return {
      skip: `netem is not emulated (no netem in this kernel, no pod network namespace): \`${[...(ctx.command ?? []), ...ctx.args].join(' ')}\` not run`,
    };
  return { skip: `no local program for image ${c.image}` };
}

/** The image's ENTRYPOINT is `node /app/bin/livepath.js` and its CMD `--help`. */
function livepath(c: ContainerSpec, ctx: LaunchContext): LaunchPlan {
  if (ctx.command && !/\/node$/.test(ctx.command[0]!))
    return {
      skip: `container "${c.name}" replaces the livepath entrypoint with ${ctx.command[0]}, which up cannot run`,
    };
  const script = ctx.command ? ctx.command.slice(1) : [CLI_PATH];
  if (script[0] === '/app/bin/livepath.js') script[0] = CLI_PATH;
  return {
    command: process.execPath,
    args: ['--import', pathToFileURL(HOOK_PATH).href, ...script, ...(c.args || ctx.command ? ctx.args : ['--help'])],
    extraEnv: {},
  };
}

/** Debian's nginx and RTMP module (apt-get install nginx-light libnginx-mod-rtmp). */
function nginx(c: ContainerSpec, ctx: LaunchContext): LaunchPlan {
  if (!has('nginx'))
    return {
      skip: 'nginx is not installed (apt-get install nginx-light libnginx-mod-rtmp): the RTMP ingest sidecar is not run',
    };
  const argv = [...(ctx.command ?? ['nginx']), ...ctx.args];
  const conf = argv[argv.indexOf('-c') + 1];
  if (argv.indexOf('-c') < 0 || !conf || !existsSync(conf))
    return { skip: `container "${c.name}": no nginx config found in \`${argv.join(' ')}\`` };
  let text = ctx.mapText(readFileSync(conf, 'utf8'));
  // The sidecar's "listen 1935" is every address of its pod: the pod address, and the pod's
  // localhost, where the origin container pulls from (rtmp://127.0.0.1:1935/…).
  text = text.replace(
    /^(\s*)listen\s+(?:(?:0\.0\.0\.0|\*|\[::\]):)?(\d+)\s*;/gm,
    (_, indent: string, port: string) => `${indent}listen 127.0.0.1:${port};\n${indent}listen ${ctx.podIP}:${port};`,
  );
  let module = '';
  try {
    module = /^\s*load_module\b/m.test(text) ? '' : findRtmpModule();
  } catch (e) {
    return { skip: (e as Error).message };
  }
  const patched = join(ctx.scratch, 'nginx.conf');
  writeFileSync(patched, text);
  const args = argv.slice(1).map((a, i, all) => (all[i - 1] === '-c' ? patched : a));
  const prefix = args[args.indexOf('-p') + 1] ?? ctx.scratch;
  return {
    command: 'nginx',
    args: [...args, '-e', join(prefix, 'error.log'), ...(module ? ['-g', `load_module ${module};`] : [])],
    extraEnv: {},
    note: `nginx config rewritten to listen on 127.0.0.1 and ${ctx.podIP}${module ? `, loading ${module}` : ''}`,
  };
}

/** Debian's prometheus, its config's cluster names turned into the addresses they resolve to. */
function prometheus(ctx: LaunchContext): LaunchPlan {
  if (!has('prometheus'))
    return { skip: 'prometheus is not installed (apt-get install prometheus): the bundled Prometheus is not run' };
  const flag = (name: string) => ctx.args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const configPath = flag('config.file');
  if (!configPath || !existsSync(configPath)) return { skip: `prometheus: config ${configPath ?? '(none)'} not found` };
  const config = parse(readFileSync(configPath, 'utf8')) as {
    scrape_configs?: Array<
      Record<string, unknown> & {
        static_configs?: Array<{ targets: string[]; labels?: Record<string, string> }>;
        dns_sd_configs?: Array<{ names: string[]; type?: string; port?: number }>;
      }
    >;
  };
  const hostPort = (t: string) => {
    const i = t.lastIndexOf(':');
    const ips = ctx.resolve(t.slice(0, i));
    return ips?.length ? ips.map((ip) => `${ip}${t.slice(i)}`) : [t];
  };
  for (const job of config.scrape_configs ?? []) {
    for (const s of job.static_configs ?? []) s.targets = s.targets.flatMap(hostPort);
    // DNS service discovery of a headless Service: the A records it answers now.
    if (job.dns_sd_configs) {
      const targets = job.dns_sd_configs.flatMap((d) =>
        d.names.flatMap((n) => (ctx.resolve(n) ?? []).map((ip) => `${ip}:${d.port}`)),
      );
      job.static_configs = [...(job.static_configs ?? []), { targets }];
      delete job.dns_sd_configs;
    }
  }
  const patched = join(ctx.scratch, 'prometheus.yml');
  writeFileSync(patched, stringify(config));
  const args = ctx.args.map((a) => (a.startsWith('--config.file=') ? `--config.file=${patched}` : a));
  if (!flag('web.listen-address')) args.push(`--web.listen-address=${ctx.podIP}:9090`);
  return {
    command: 'prometheus',
    args,
    extraEnv: {},
    note: 'prometheus config: cluster names resolved, DNS discovery of headless Services turned into their current addresses',
  };
}
