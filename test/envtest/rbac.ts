/** RBAC grants for tests that run the receiver with less than admin. */
import { RbacAuthorizationV1Api } from '@kubernetes/client-node';
import type { ClusterConnection } from './connect.js';

export type Subject = { kind: 'User'; name: string } | { kind: 'ServiceAccount'; name: string; namespace: string };

/** A RoleBinding `name` in `namespace` giving `subject` the Role or ClusterRole `role` there. */
export async function bindRole(cluster: ClusterConnection, namespace: string, name: string, role: { kind: 'Role' | 'ClusterRole'; name: string }, subject: Subject): Promise<void> {
  const rbac = cluster.kubeConfig().makeApiClient(RbacAuthorizationV1Api);
  await rbac.createNamespacedRoleBinding({
    namespace,
    body: {
      metadata: { name },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', ...role },
      subjects: [subject.kind === 'User' ? { apiGroup: 'rbac.authorization.k8s.io', ...subject } : subject],
    },
  });
}
