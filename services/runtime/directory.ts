// Where each node of a run listens: `id=host:port` pairs given on the command line (the lab
// fills them in as processes come up; Kubernetes passes Service DNS names).
export type Directory = Map<string, string>;

export class DirectoryError extends Error {}

export function parseDirectory(spec: string | undefined): Directory {
  const d: Directory = new Map();
  if (!spec) return d;
  for (const part of spec
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const eq = part.indexOf('=');
    const addr = part.slice(eq + 1);
    if (eq <= 0 || !/^[^\s:]+:\d+$/.test(addr)) {
      throw new DirectoryError(`--directory: "${part}" is not ID=HOST:PORT (e.g. origin=127.0.0.1:7000)`);
    }
    d.set(part.slice(0, eq), addr);
  }
  return d;
}

export function formatDirectory(d: Directory): string {
  return [...d].map(([k, v]) => `${k}=${v}`).join(',');
}

export function lookupAddress(d: Directory, id: string): string {
  const a = d.get(id);
  if (!a) throw new DirectoryError(`no address for "${id}": add ${id}=HOST:PORT to --directory`);
  return a;
}
