// Loaded (`node --import`) into every livepath container that `livepath up` runs: plays the pod's
// network namespace and cluster DNS for this one process. It binds what the process binds to all
// interfaces (0.0.0.0, ::) to the pod's own address instead, answers cluster names
// (<svc>, <pod>.<svc>.<ns>.svc, …) from the table `up` keeps current, and stops the process
// (SIGTERM) when `up` is gone. Nothing else of the process is touched.
import dns from 'node:dns';
import { syncBuiltinESMExports } from 'node:module';
import net from 'node:net';
import { readFileSync, statSync } from 'node:fs';
import { POD_ENV, resolveName, type NetworkTable, type PodNet } from './network.js';

const pod = JSON.parse(process.env[POD_ENV] ?? 'null') as PodNet | null;
if (pod) install(pod);

function install(p: PodNet): void {
  let table: NetworkTable = { names: {} };
  let seen = -1;
  const lookupName = (name: string): string[] | undefined => {
    try {
      const m = statSync(p.table).mtimeMs;
      if (m !== seen) {
        seen = m;
        table = JSON.parse(readFileSync(p.table, 'utf8')) as NetworkTable;
      }
    } catch {
      // A table being replaced: answer from the last one read.
    }
    return resolveName(table, p.namespace, name);
  };

  type LookupCallback = (err: NodeJS.ErrnoException | null, address?: unknown, family?: number) => void;
  const original = dns.lookup;
  const lookup = (hostname: string, options: unknown, callback?: LookupCallback): void => {
    const cb = (typeof options === 'function' ? options : callback) as LookupCallback;
    const opts = (typeof options === 'object' && options ? options : {}) as { all?: boolean };
    const ips = typeof hostname === 'string' ? lookupName(hostname) : undefined;
    if (!ips) {
      (original as (...a: unknown[]) => void)(hostname, ...(typeof options === 'function' ? [] : [options]), cb);
      return;
    }
    process.nextTick(() => {
      if (ips.length === 0) {
        const e = Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', hostname });
        return cb(e);
      }
      if (opts.all)
        cb(
          null,
          ips.map((address) => ({ address, family: 4 })),
        );
      else cb(null, ips[0], 4);
    });
  };
  (dns as { lookup: unknown }).lookup = lookup;
  const originalPromise = dns.promises.lookup;
  (dns.promises as { lookup: unknown }).lookup = async (hostname: string, options?: { all?: boolean }) => {
    const ips = lookupName(hostname);
    if (!ips) return (originalPromise as (...a: unknown[]) => Promise<unknown>)(hostname, options);
    if (ips.length === 0)
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', hostname });
    return options?.all ? ips.map((address) => ({ address, family: 4 })) : { address: ips[0], family: 4 };
  };

  // Binding "all interfaces" means the pod's interfaces: its own address.
  const anyHost = (h: unknown) => h === undefined || h === null || h === '' || h === '0.0.0.0' || h === '::';
  const listen = net.Server.prototype.listen;
  net.Server.prototype.listen = function (this: net.Server, ...args: unknown[]) {
    const [first, second] = args;
    if (typeof first === 'object' && first !== null && !('_handle' in first) && !('fd' in first)) {
      const o = first as net.ListenOptions;
      if (o.path === undefined && anyHost(o.host)) args[0] = { ...o, host: p.podIP };
    } else if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
      if (typeof second === 'string' || second === undefined || second === null) {
        if (anyHost(second)) args[1] = p.podIP;
      } else args.splice(1, 0, p.podIP); // listen(port, backlog|cb)
    }
    return (listen as (...a: unknown[]) => net.Server).apply(this, args);
  } as typeof listen;
  syncBuiltinESMExports();

  // `up` went away (killed without stopping its pods): stop rather than run orphaned.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) process.kill(process.pid, 'SIGTERM');
  }, 1_000).unref();
}
