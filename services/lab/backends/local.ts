// The local backend (the default): every process on 127.0.0.1, many virtual viewers per peers
// process, linkemu for latency and bandwidth. Needs no root, no containers, no cluster.
import type { Backend } from './index.js';
import { type Placement, runOnPlacement } from './placement.js';

export const localPlacement: Placement = { name: 'local', linkShaping: 'linkemu', listenHost: () => '127.0.0.1' };

export const runLocal: Backend = (o) => runOnPlacement(o, localPlacement);
