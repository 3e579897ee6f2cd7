// The control channel between the lab and a service process: the service reports events as JSON
// lines on stdout and takes commands as JSON lines on stdin. Without a lab (Kubernetes, by hand)
// a service runs standalone: it starts once it is ready and runs until SIGTERM/SIGINT.
import { createInterface, type Interface } from 'node:readline';

export type ControlEvent =
  | { event: 'ready'; address: string; metricsUrl?: string; proc: string; originKey?: string }
  | { event: 'progress'; proc: string; [k: string]: unknown }
  | { event: 'done'; proc: string; [k: string]: unknown }
  | { event: 'error'; proc: string; message: string };

export type ControlCommand =
  | { cmd: 'start'; atUs: number }
  | { cmd: 'stop' }
  | { cmd: 'churn'; kind: 'leave' | 'kill' | 'join'; viewer: string };

export interface Control {
  emit(e: ControlEvent): void;
  onCommand(handler: (c: ControlCommand) => void): void;
}

/** One JSON value per line: how the lab talks with its child processes (services, Mininet's script). */
export function jsonLine(value: unknown): string {
  return `${JSON.stringify(value)}\n`;
}

/** Calls `onValue` with each line of `input` that is JSON; other lines (a stray print) are skipped. */
export function onJsonLines<T>(input: NodeJS.ReadableStream, onValue: (value: T) => void): Interface {
  const lines = createInterface({ input });
  lines.on('line', (line) => {
    let value: T;
    try {
      value = JSON.parse(line) as T;
    } catch {
      return;
    }
    onValue(value);
  });
  return lines;
}

export function stdioControl(): Control {
  const handlers: Array<(c: ControlCommand) => void> = [];
  const rl = onJsonLines<ControlCommand>(process.stdin, (c) => {
    for (const h of handlers) h(c);
  });
  // The lab went away: stop rather than run orphaned.
  rl.on('close', () => {
    for (const h of handlers) h({ cmd: 'stop' });
  });
  return {
    emit: (e) => process.stdout.write(jsonLine(e)),
    onCommand: (h) => handlers.push(h),
  };
}

/**
 * Standalone: "start" once the service says it is ready (its `ready` event: every handler is
 * registered by then, however long its set-up awaited), `leadUs` ahead so its timers are armed;
 * a handler registered later still gets it. "stop" comes from a signal. Events go to the log only.
 */
export function standaloneControl(nowUs: () => number, log: (e: ControlEvent) => void, leadUs = 1_000_000): Control {
  const handlers: Array<(c: ControlCommand) => void> = [];
  let start: ControlCommand | undefined;
  return {
    emit: (e) => {
      log(e);
      if (e.event !== 'ready' || start) return;
      start = { cmd: 'start', atUs: nowUs() + leadUs };
      for (const h of handlers) h(start);
    },
    onCommand: (h) => {
      handlers.push(h);
      if (start) h(start);
    },
  };
}
