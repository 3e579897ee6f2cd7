// The cluster network of `livepath up`, on loopback: every pod gets its own address in
// 127.<n>.0.0/16 (all of 127/8 is local on Linux, no root needed), every ClusterIP Service an
// address of its own where a proxy forwards each connection to a ready endpoint (as kube-proxy
// does: none ready, the connection is refused), and cluster DNS is a table that the hook loaded
// into each livepath process answers from (headless Services: the pods' own addresses).
import { closeSync, existsSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServiceSpec } from './manifests.js';

export const CLUSTER_DOMAIN = 'cluster.local';

/** The environment variable through which a container's hook learns its pod's network (a PodNet). */
export const POD_ENV = 'LIVEPATH_UP_POD';

/** What a container's hook reads: its pod address, DNS search path and the cluster's names. */
export interface NetworkTable {
  /** FQDN (…cluster.local, no trailing dot) → addresses */
  names: Record<string, string[]>;
}

export interface PodNet {
  podIP: string;
  namespace: string;
  /** the table file, re-read by the hook when it changes */
  table: string;
}

export class AddressSpaceError extends Error {}

/**
 * A /16 of 127/8 that no other `livepath up` on this machine holds (a lock file per block, freed
 * when its holder's pid is gone).
 */
export function claimAddressBlock(): { block: number; release(): void } {
  for (let i = 0; i < 150; i++) {
    const block = 100 + ((process.pid + i) % 150);
    const lock = join(tmpdir(), `livepath-up-127.${block}.lock`);
    if (existsSync(lock)) {
      const pid = Number(readFileSync(lock, 'utf8'));
      if (pid && alive(pid)) continue;
      rmSync(lock, { force: true });
    }
    try {
      const fd = openSync(lock, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
    } catch {
      continue;
    }
    return { block, release: () => rmSync(lock, { force: true }) };
  }
  throw new AddressSpaceError('no free 127.x.0.0/16 block for livepath up (150 are held by other runs)');
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface Endpoint {
  ip: string;
  /** container port of each Service port's targetPort, resolved for this pod */
  port(target: number | string): number | undefined;
  ready: boolean;
  labels: Record<string, string>;
}

interface Proxy {
  server: Server;
  sockets: Set<Socket>;
}

export class Network {
  private nextPod = 2;
  private nextService = 2;
  private nextHook = 2;
  private readonly proxies: Proxy[] = [];
  readonly serviceIPs = new Map<string, string>();
  readonly tablePath: string;
  private lastTable = '';

  constructor(
    readonly block: number,
    readonly namespace: string,
    stateDir: string,
    /** the pods behind the Services, as they are now */
    private readonly endpoints: () => Endpoint[],
  ) {
    this.tablePath = join(stateDir, 'network.json');
  }

  private addr(third: number, n: number): string {
    return `127.${this.block}.${third + Math.floor(n / 250)}.${n % 250}`;
  }

  allocPodIP(): string {
    return this.addr(0, this.nextPod++);
  }

  allocHookIP(): string {
    return this.addr(100, this.nextHook++);
  }

  /** Gives each ClusterIP Service its address (headless ones keep clusterIP None). */
  assignServiceIPs(services: ServiceSpec[]): void {
    for (const s of services) {
      if (s.spec.clusterIP === 'None') continue;
      this.serviceIPs.set(s.metadata.name, this.addr(200, this.nextService++));
    }
  }

  /** Starts a forwarding proxy on every port of every ClusterIP Service. */
  async startProxies(services: ServiceSpec[]): Promise<void> {
    for (const s of services) {
      const ip = this.serviceIPs.get(s.metadata.name);
      if (!ip) continue;
      let rr = 0;
      for (const p of s.spec.ports ?? []) {
        if ((p.protocol ?? 'TCP') !== 'TCP') continue;
        const sockets = new Set<Socket>();
        const server = createServer((client) => {
          sockets.add(client);
          client.on('close', () => sockets.delete(client));
          client.setNoDelay(true);
          const ready = this.backends(s).filter((e) => e.ready || s.spec.publishNotReadyAddresses);
          const target = ready.length > 0 ? ready[rr++ % ready.length] : undefined;
          const port = target?.port(p.targetPort ?? p.port);
          // No ready endpoint: refused, as kube-proxy rejects it.
          if (!target || port === undefined) return client.resetAndDestroy();
          const upstream = connect({ host: target.ip, port });
          sockets.add(upstream);
          upstream.on('close', () => sockets.delete(upstream));
          upstream.setNoDelay(true);
          client.pipe(upstream);
          upstream.pipe(client);
          const fail = () => {
            client.destroySoon();
            upstream.destroySoon();
          };
          upstream.on('error', () => (client.destroyed ? undefined : client.resetAndDestroy()));
          client.on('error', fail);
        });
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen(p.port, ip, () => resolve());
        });
        this.proxies.push({ server, sockets });
      }
    }
  }

  /** The pods a Service selects. */
  backends(s: ServiceSpec): Endpoint[] {
    const sel = s.spec.selector;
    if (!sel || Object.keys(sel).length === 0) return [];
    return this.endpoints().filter((e) => Object.entries(sel).every(([k, v]) => e.labels[k] === v));
  }

  /**
   * Cluster DNS as it answers now: <svc>.<ns>.svc.<domain> → the Service address, or for a
   * headless Service the addresses of its ready pods (all of them with publishNotReadyAddresses),
   * and <hostname>.<subdomain>.<ns>.svc.<domain> → a pod whose subdomain names a headless Service.
   */
  table(
    services: ServiceSpec[],
    pods: Array<{ ip: string; hostname?: string; subdomain?: string; ready: boolean }>,
  ): NetworkTable {
    const names: Record<string, string[]> = {};
    const svcDomain = `${this.namespace}.svc.${CLUSTER_DOMAIN}`;
    for (const s of services) {
      const name = `${s.metadata.name}.${svcDomain}`;
      const ip = this.serviceIPs.get(s.metadata.name);
      if (ip) names[name] = [ip];
      else {
        names[name] = this.backends(s)
          .filter((e) => e.ready || s.spec.publishNotReadyAddresses)
          .map((e) => e.ip);
        for (const p of pods)
          if (p.hostname && p.subdomain === s.metadata.name) names[`${p.hostname}.${name}`] = [p.ip];
      }
    }
    return { names };
  }

  /** Writes the table where the hooks read it, when it changed (atomically: they may read any time). */
  publish(table: NetworkTable): void {
    const text = JSON.stringify(table);
    if (text === this.lastTable) return;
    this.lastTable = text;
    const tmp = `${this.tablePath}.tmp`;
    writeFileSync(tmp, text);
    renameSync(tmp, this.tablePath);
  }

  async close(): Promise<void> {
    for (const p of this.proxies) for (const s of p.sockets) s.destroy();
    await Promise.all(this.proxies.map((p) => new Promise<void>((r) => p.server.close(() => r()))));
  }
}

/** Resolves a name the way a pod's resolv.conf does (search <ns>.svc, svc, the cluster domain). */
export function resolveName(table: NetworkTable, namespace: string, name: string): string[] | undefined {
  const n = name.replace(/\.$/, '');
  if (n.endsWith(`.${CLUSTER_DOMAIN}`)) return table.names[n];
  for (const suffix of [`${namespace}.svc.${CLUSTER_DOMAIN}`, `svc.${CLUSTER_DOMAIN}`, CLUSTER_DOMAIN]) {
    const hit = table.names[`${n}.${suffix}`];
    if (hit) return hit;
  }
  return undefined;
}
