// What a backend is: the part of the lab that runs one mode of an experiment somewhere (local
// processes, Mininet hosts, a Kubernetes release) and leaves every process' raw files in rawDir.
// The lab summarizes those files the same way whichever backend wrote them.
import type { Mode, RunPlan } from '../../core/types.js';
import type { Summary } from '../../results/summary.js';
import type { KubernetesBackendOptions } from './kubernetes/index.js';
import type { ServiceProcess } from './procs.js';

export type BackendName = 'local' | 'mininet' | 'kubernetes';

/** Runs one mode of an experiment and resolves with what the lab needs to summarize it. */
export type Backend = (o: BackendRunOptions) => Promise<RawRunInfo>;

export interface BackendRunOptions {
  plan: RunPlan;
  scenarioPath: string;
  mode: Mode;
  /** raw per-process files go here */
  rawDir: string;
  logDir: string;
  viewersPerHost?: number;
  /** progress callback: chunks produced so far of total, chunk records received so far */
  onProgress?: (p: { produced: number; total: number; received: number }) => void;
  /** aborts the run early (Ctrl-C): resolves the run with what was received */
  signal?: AbortSignal;
  /** more options for the origin (the ingest: --rtmp-url, --record, …) and for every peers process (--record) */
  extraOriginArgs?: string[];
  extraPeerArgs?: string[];
  /** told about each process once it is ready (e.g. to register its metrics with Prometheus) */
  onServiceReady?: (spec: ProcSpec, p: ServiceProcess) => void | Promise<void>;
}

/** What a backend's run leaves for the summary besides the raw files. */
export interface RawRunInfo {
  plan: RunPlan;
  mode: Mode;
  backend: string;
  /** chunks the origin produced */
  chunksProduced: number;
  /** when chunk 0 began (µs), to map seq ↔ time */
  startUs: number;
  /** the origin's public key (base64), as it announced it when ready */
  originKey?: string;
  extra?: Partial<Summary>;
  /**
   * the viewers whose chunks the raw files hold, when a run records a sample (a large simulated
   * audience); losses are counted over them, and no reference tree is built
   */
  recordedViewers?: ReadonlySet<string>;
  /** false: do not grade the overlay against a reference tree (its search is quadratic in viewers) */
  grade?: boolean;
}

/** One service process of a run. */
export interface ProcSpec {
  proc: string;
  role: 'origin' | 'edge' | 'peers' | 'tracker';
  /** scenario node ids this process hosts */
  nodeIds: string[];
}

/**
 * The backend of `--backend name`, loaded when chosen: the Kubernetes client alone costs seconds
 * of CPU. `kubernetes` takes the cluster options of the command line.
 */
export async function loadBackend(name: BackendName, kubernetes: KubernetesBackendOptions = {}): Promise<Backend> {
  if (name === 'mininet') return (await import('./mininet.js')).runMininet;
  if (name === 'kubernetes') return (await import('./kubernetes/index.js')).kubernetesBackend(kubernetes);
  return (await import('./local.js')).runLocal;
}
