// Typed failures of the metrics package, one class per way of failing, each with a message that
// tells the user what to do about it.

/** The metrics port is taken by another process (often a previous run still alive). */
export class MetricsPortInUseError extends Error {
  override readonly name = 'MetricsPortInUseError';
  constructor(
    readonly port: number,
    options?: { cause?: unknown },
  ) {
    super(`metrics port ${port} is in use: pass --metrics-port 0 or a free port`, options);
  }
}

/** The metrics server could not listen for another reason (address not local, no permission). */
export class MetricsListenError extends Error {
  override readonly name = 'MetricsListenError';
  constructor(
    readonly host: string,
    readonly port: number,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(
      `metrics server cannot listen on ${host}:${port} (${reason}): pass --metrics-host with a ` +
        `local address and --metrics-port 0 or a port above 1023`,
      options,
    );
  }
}
