// `livepath origin`: runs the origin (with its synthetic broadcaster) as a service process.
import { addRelayService, startServer } from '../relay/server.js';
import { createShell, type ShellOptions } from '../runtime/shell.js';
import { Origin } from './origin.js';

export interface OriginOptions extends ShellOptions {
  listen: string;
}

export async function runOrigin(o: OriginOptions): Promise<void> {
  const shell = createShell(o);
  const { plan, clock, link, log, control } = shell;
  const origin = new Origin({ plan }, { clock, link });
  const server = await startServer(o.listen, (s) =>
    addRelayService(s, { link, clock, node: (id) => (id === '' || id === origin.node.id ? origin.node : undefined) }),
  );
  shell.onStop(() => server.stop());
  shell.onStop(() => origin.stop());
  origin.onProduced = (seq) => {
    if (seq % 4 === 0 || seq === origin.chunkCount - 1) {
      control.emit({ event: 'progress', proc: shell.proc, produced: origin.produced, total: origin.chunkCount, children: origin.node.childCount });
    }
  };
  origin.onFinished = () => control.emit({ event: 'progress', proc: shell.proc, produced: origin.produced, total: origin.chunkCount, finished: true });
  shell.onCommand((c) => {
    if (c.cmd === 'start') origin.start(c.atUs);
  });
  log.info({ address: server.address, chunks: origin.chunkCount }, 'origin ready');
  control.emit({ event: 'ready', proc: shell.proc, address: server.address });
}
