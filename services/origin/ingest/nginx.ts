// The RTMP ingest: nginx with the rtmp module, run unprivileged from ingest/nginx-rtmp.conf with
// its own prefix, plus the tiny HTTP "gate" nginx calls back (on_publish: is the stream key right?
// on_play / on_publish_done: when did the origin attach, when did the broadcaster stop). The gate
// also remembers when each publish began: the anchor of the ingest-delay measurement.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, createServer as createTcpServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageFile } from '../../runtime/package.js';
import { NGINX_MODULES_AVAILABLE, NGINX_STOP_GRACE_MS, RTMP_APP, RTMP_MODULE_CANDIDATES } from './constants.js';

/** ingest/nginx-rtmp.conf at the package root. */
export const CONFIG_TEMPLATE = packageFile('ingest', 'nginx-rtmp.conf');

export class NginxNotFoundError extends Error {
  constructor() {
    super(
      'nginx is not installed — fix: apt-get install nginx-light libnginx-mod-rtmp (or any nginx built with the rtmp module)',
    );
  }
}
export class RtmpModuleNotFoundError extends Error {
  constructor() {
    super(
      `the nginx rtmp module was not found (looked in ${RTMP_MODULE_CANDIDATES.join(', ')} and ${NGINX_MODULES_AVAILABLE}) — fix: apt-get install libnginx-mod-rtmp`,
    );
  }
}
export class NginxStartError extends Error {}

/** Path of ngx_rtmp_module.so, '' when nginx has the module built in. */
export function findRtmpModule(): string {
  const v = spawnSync('nginx', ['-V']);
  if (v.error) throw new NginxNotFoundError();
  // Built in statically: nothing to load.
  if (/--add-module=\S*rtmp/.test(v.stderr.toString())) return '';
  for (const p of RTMP_MODULE_CANDIDATES) if (existsSync(p)) return p;
  // Debian lists enabled-able modules as "load_module modules/ngx_rtmp_module.so;" relative to /usr/lib/nginx.
  if (existsSync(NGINX_MODULES_AVAILABLE)) {
    for (const f of readdirSync(NGINX_MODULES_AVAILABLE).filter((f) => f.includes('rtmp'))) {
      const m = /load_module\s+([^;]+);/.exec(readFileSync(join(NGINX_MODULES_AVAILABLE, f), 'utf8'));
      if (m) {
        const p = m[1]!.startsWith('/') ? m[1]! : join('/usr/lib/nginx', m[1]!);
        if (existsSync(p)) return p;
      }
    }
  }
  throw new RtmpModuleNotFoundError();
}

/** A free TCP port on `host` (bound then released: nginx binds it next). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((res, rej) => {
    const s = createTcpServer();
    s.once('error', rej);
    s.listen(0, host, () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => res(port));
    });
  });
}

export interface PublishRecord {
  /** when nginx asked whether the publish may start (µs, wall clock) */
  publishedAtUs: number;
  /** when the publisher went away */
  endedAtUs?: number;
}

export interface IngestServerInit {
  /** RTMP port (default: a free one) */
  port?: number;
  /** address broadcasters reach (default 127.0.0.1) */
  host?: string;
  /** when set, a publish with another key is refused */
  streamKey?: string;
  configTemplate?: string;
}

export interface IngestServerComponents {
  nowUs: () => number;
  log?: (msg: string) => void;
}

/** nginx-rtmp + its gate, started and stopped together. */
export class IngestServer {
  port = 0;
  gatePort = 0;
  readonly publishes = new Map<string, PublishRecord>();
  /** called when a player (the origin's pull) attaches to a stream */
  onPlay: ((name: string) => void) | undefined;
  onPublish: ((name: string) => void) | undefined;
  onPublishDone: ((name: string) => void) | undefined;
  private nginx: ChildProcess | undefined;
  private gate: Server | undefined;
  private prefix = '';
  private exited: Promise<void> = Promise.resolve();
  private readonly killOnExit = () => this.nginx?.kill('SIGKILL');

  constructor(
    readonly init: IngestServerInit,
    private readonly c: IngestServerComponents,
  ) {}

  get host(): string {
    return this.init.host ?? '127.0.0.1';
  }

  /** Where a broadcaster pushes (the publish URL, stream key last). */
  publishUrl(key = this.init.streamKey ?? 'live'): string {
    const host = this.host === '0.0.0.0' ? '127.0.0.1' : this.host;
    return `rtmp://${host}:${this.port}/${RTMP_APP}/${key}`;
  }

  /** Server URL + key, as OBS asks for them. */
  get serverUrl(): string {
    const host = this.host === '0.0.0.0' ? '127.0.0.1' : this.host;
    return `rtmp://${host}:${this.port}/${RTMP_APP}`;
  }

  get gateUrl(): string {
    return `http://127.0.0.1:${this.gatePort}`;
  }

  get errorLog(): string {
    return join(this.prefix, 'error.log');
  }

  async start(): Promise<void> {
    const module = findRtmpModule();
    this.gate = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((r) => this.gate!.listen(0, '127.0.0.1', r));
    this.gatePort = (this.gate.address() as AddressInfo).port;
    this.port = this.init.port ?? (await freePort(this.host));
    this.prefix = mkdtempSync(join(tmpdir(), 'livepath-nginx-'));
    const notify = [
      `on_publish ${this.gateUrl}/on_publish;`,
      `on_play ${this.gateUrl}/on_play;`,
      `on_publish_done ${this.gateUrl}/on_publish_done;`,
    ].join(`\n${' '.repeat(12)}`);
    const conf = readFileSync(this.init.configTemplate ?? CONFIG_TEMPLATE, 'utf8')
      .replace(/^load_module \{\{RTMP_MODULE\}\};$/m, module ? `load_module ${module};` : '')
      .replaceAll('{{PREFIX}}', this.prefix)
      .replaceAll('{{LISTEN}}', `${this.host}:${this.port}`)
      .replace(/^(\s*)\{\{NOTIFY\}\}$/m, (_, indent: string) => indent + notify);
    const confPath = join(this.prefix, 'nginx.conf');
    writeFileSync(confPath, conf);
    const child = spawn('nginx', ['-p', `${this.prefix}/`, '-c', confPath, '-e', join(this.prefix, 'error.log')], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.nginx = child;
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    this.exited = new Promise((r) => child.once('exit', () => r()));
    process.once('exit', this.killOnExit);
    const failed = new Promise<never>((_, rej) =>
      child.once('exit', (code) =>
        rej(
          new NginxStartError(
            `nginx exited (code ${code}) while starting: ${(stderr + this.readErrorLog()).trim().split('\n').slice(-3).join(' | ')}`,
          ),
        ),
      ),
    );
    failed.catch(() => undefined);
    await Promise.race([waitForPort(this.host === '0.0.0.0' ? '127.0.0.1' : this.host, this.port), failed]);
    this.c.log?.(`nginx-rtmp listening on ${this.host}:${this.port} (prefix ${this.prefix})`);
  }

  /** Stops nginx (fast shutdown, then kill) and the gate; removes the prefix. */
  async stop(): Promise<void> {
    const child = this.nginx;
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), NGINX_STOP_GRACE_MS);
      await this.exited;
      clearTimeout(t);
    }
    process.removeListener('exit', this.killOnExit);
    this.nginx = undefined;
    await new Promise<void>((r) => (this.gate ? this.gate.close(() => r()) : r()));
    this.gate?.closeAllConnections();
    if (this.prefix) rmSync(this.prefix, { recursive: true, force: true });
  }

  /** Resolves when nginx exits on its own (crash): the caller should stop. */
  get done(): Promise<void> {
    return this.exited;
  }

  private readErrorLog(): string {
    try {
      return readFileSync(this.errorLog, 'utf8');
    } catch {
      return '';
    }
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://gate');
    if (req.method === 'GET' && url.pathname === '/publish') {
      const rec = this.publishes.get(url.searchParams.get('name') ?? '');
      res.writeHead(rec ? 200 : 404, { 'content-type': 'application/json' });
      res.end(JSON.stringify(rec ?? {}));
      return;
    }
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const form = new URLSearchParams(body);
      const name = form.get('name') ?? '';
      const now = this.c.nowUs();
      if (url.pathname === '/on_publish') {
        if (this.init.streamKey !== undefined && name !== this.init.streamKey) {
          this.c.log?.(`refused a publish with a wrong stream key from ${form.get('addr') ?? '?'}`);
          res.writeHead(403).end();
          return;
        }
        this.publishes.set(name, { publishedAtUs: now });
        this.c.log?.(`broadcaster publishing "${name}" from ${form.get('addr') ?? '?'}`);
        this.onPublish?.(name);
      } else if (url.pathname === '/on_publish_done') {
        const rec = this.publishes.get(name);
        if (rec) rec.endedAtUs = now;
        this.onPublishDone?.(name);
      } else if (url.pathname === '/on_play') {
        this.onPlay?.(name);
      }
      res.writeHead(200).end();
    });
  }
}

function waitForPort(host: string, port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((res, rej) => {
    const attempt = () => {
      const s = connect(port, host);
      s.once('connect', () => {
        s.destroy();
        res();
      });
      s.once('error', () => {
        s.destroy();
        if (Date.now() > deadline)
          rej(new NginxStartError(`nginx did not listen on ${host}:${port} within ${timeoutMs} ms`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}
