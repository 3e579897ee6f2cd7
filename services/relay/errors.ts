// Typed failures of the relay, each mapped to the gRPC status a peer sees.
import { status } from '@grpc/grpc-js';

export class RelayError extends Error {
  constructor(
    message: string,
    readonly code: status,
  ) {
    super(message);
  }
}

export class NodeNotHereError extends RelayError {
  constructor(nodeId: string) {
    super(`node "${nodeId}" is not served by this process`, status.NOT_FOUND);
  }
}

export class ChildTooSlowError extends RelayError {
  constructor(childId: string, queued: number) {
    super(
      `child "${childId}" fell ${queued} fragments behind and was dropped; it should resume from its next missing seq`,
      status.RESOURCE_EXHAUSTED,
    );
  }
}

export class NodeGoneError extends RelayError {
  constructor(nodeId: string) {
    super(`node "${nodeId}" is gone`, status.UNAVAILABLE);
  }
}
