// Container probes as the kubelet runs them: grpc (grpc.health.v1 Check), tcpSocket and httpGet,
// each with its timeout, and the spec's period and thresholds applied by ProbeState.
import { connect } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';

export interface ProbeSpec {
  grpc?: { port: number; service?: string };
  tcpSocket?: { port: number | string; host?: string };
  httpGet?: { port: number | string; path?: string; host?: string; scheme?: string };
  exec?: { command: string[] };
  initialDelaySeconds?: number;
  periodSeconds?: number;
  timeoutSeconds?: number;
  successThreshold?: number;
  failureThreshold?: number;
}

export interface ProbeResult {
  ok: boolean;
  message: string;
}

const HealthClient = grpc.makeGenericClientConstructor(healthService, 'Health') as unknown as new (
  address: string,
  creds: grpc.ChannelCredentials,
) => grpc.Client & {
  check(
    req: { service: string },
    md: grpc.Metadata,
    opts: grpc.CallOptions,
    cb: (err: grpc.ServiceError | null, res?: { status: string | number }) => void,
  ): void;
};

/** grpc.health.v1 Check of `service` ("" = the server overall) at host:port. */
export function grpcHealth(host: string, port: number, service = '', timeoutMs = 1_000): Promise<ProbeResult> {
  const client = new HealthClient(`${host}:${port}`, grpc.credentials.createInsecure());
  return new Promise<ProbeResult>((resolve) => {
    client.check({ service }, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (err, res) => {
      if (err)
        resolve({ ok: false, message: `grpc health${service ? ` (${service})` : ''}: ${err.details || err.message}` });
      else {
        // proto-loader gives the enum as its name unless told otherwise
        const status =
          typeof res?.status === 'number'
            ? (['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'][res.status] ?? String(res.status))
            : String(res?.status);
        resolve({ ok: status === 'SERVING', message: `grpc health${service ? ` (${service})` : ''}: ${status}` });
      }
    });
  }).finally(() => client.close());
}

export function tcpConnect(host: string, port: number, timeoutMs = 1_000): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    const done = (r: ProbeResult) => {
      clearTimeout(t);
      s.destroy();
      resolve(r);
    };
    const t = setTimeout(() => done({ ok: false, message: `tcp ${port}: timeout` }), timeoutMs);
    s.once('connect', () => done({ ok: true, message: `tcp ${port}: open` }));
    s.once('error', (e) =>
      done({ ok: false, message: `tcp ${port}: ${(e as NodeJS.ErrnoException).code ?? e.message}` }),
    );
  });
}

export async function httpGet(host: string, port: number, path: string, timeoutMs = 1_000): Promise<ProbeResult> {
  try {
    const res = await fetch(`http://${host}:${port}${path}`, { signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer();
    // The kubelet counts 200–399 as success.
    return { ok: res.status >= 200 && res.status < 400, message: `http ${path}: ${res.status}` };
  } catch (e) {
    return { ok: false, message: `http ${path}: ${(e as Error).message}` };
  }
}

/** Runs one probe of `spec` against a container at `host`; named ports are resolved by `port`. */
export function runProbe(spec: ProbeSpec, host: string, port: (p: number | string) => number): Promise<ProbeResult> {
  const timeoutMs = (spec.timeoutSeconds ?? 1) * 1000;
  if (spec.grpc) return grpcHealth(host, spec.grpc.port, spec.grpc.service ?? '', timeoutMs);
  if (spec.tcpSocket) return tcpConnect(spec.tcpSocket.host ?? host, port(spec.tcpSocket.port), timeoutMs);
  if (spec.httpGet)
    return httpGet(spec.httpGet.host ?? host, port(spec.httpGet.port), spec.httpGet.path ?? '/', timeoutMs);
  return Promise.resolve({ ok: true, message: 'exec probes are not run by livepath up (counted as passing)' });
}

/** The kubelet's counting: successThreshold passes in a row to pass, failureThreshold fails to fail. */
export class ProbeState {
  private passes = 0;
  private fails = 0;
  ok: boolean;
  last = '';

  constructor(
    readonly spec: ProbeSpec,
    initiallyOk: boolean,
  ) {
    this.ok = initiallyOk;
  }

  record(r: ProbeResult): boolean {
    this.last = r.message;
    if (r.ok) {
      this.fails = 0;
      this.passes++;
      if (this.passes >= (this.spec.successThreshold ?? 1)) this.ok = true;
    } else {
      this.passes = 0;
      this.fails++;
      if (this.fails >= (this.spec.failureThreshold ?? 3)) this.ok = false;
    }
    return this.ok;
  }
}
