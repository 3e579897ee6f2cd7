// The ways `livepath run --backend kubernetes` fails, one class each, with a one-line message that
// says what to do. Every API call names its RBAC verb and resource, so a 403 can say which
// permission is missing and a 404 which object of the release is.

export class KubernetesError extends Error {}

export class NoKubeconfigError extends KubernetesError {
  constructor(detail: string) {
    super(
      `no kubeconfig: ${detail} — set KUBECONFIG or create ~/.kube/config (kind, k3s and managed clusters write one), or pass --context`,
    );
  }
}

export class ApiUnreachableError extends KubernetesError {
  constructor(server: string, context: string, cause: string) {
    super(
      `cannot reach the Kubernetes API server ${server} (context "${context}"): ${cause} — is the cluster running and the kubeconfig current?`,
    );
  }
}

export class UnauthorizedError extends KubernetesError {
  constructor(server: string, context: string) {
    super(
      `the Kubernetes API server ${server} rejected the credentials of context "${context}" (401 Unauthorized): log in again or refresh the kubeconfig`,
    );
  }
}

export class ForbiddenError extends KubernetesError {
  constructor(
    readonly verb: string,
    readonly resource: string,
    namespace: string,
    user: string,
  ) {
    super(
      `missing RBAC permission: ${user} cannot ${verb} ${resource} in namespace "${namespace}" (403 Forbidden) — grant it with a Role, e.g. \`kubectl create role livepath-lab --verb=${verb} --resource=${resource} -n ${namespace}\``,
    );
  }
}

export class ReleaseNotFoundError extends KubernetesError {
  constructor(release: string, namespace: string, missing: string, installCommand: string) {
    super(
      `release "${release}" not found in namespace "${namespace}" (${missing}): install it with \`${installCommand}\` (or pass --install)`,
    );
  }
}

export class ReleaseMismatchError extends KubernetesError {}

export class PodsNotReadyError extends KubernetesError {}

export class ConflictError extends KubernetesError {}

/** What an API call is, for the error it may raise. */
export interface CallSite {
  verb: 'get' | 'list' | 'watch' | 'patch' | 'delete' | 'create';
  /** resource as RBAC names it, e.g. "statefulsets/scale", "pods/exec" */
  resource: string;
  /** the object, for a 404 */
  name?: string;
}
