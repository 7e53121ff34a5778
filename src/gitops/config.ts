/**
 * The `gitops:` config block: pausing Argo CD or Flux reconciliation before a rollback, so
 * self-heal does not re-apply the bad revision. Off by default: it writes to objects of
 * another system, which the receiver's Role must be granted in their namespaces.
 *
 *   gitops:
 *     argocd: { enabled: true, namespace: argocd, trackingLabel: app.kubernetes.io/instance, parents: pause }
 *     flux: { enabled: true }
 *     resume: manual            # or onSourceChange
 *     checkInterval: 60s
 */
import { z } from 'zod';
import { duration, namespaceName } from '../config/fields.js';

export const gitopsSchema = z
  .object({
    argocd: z
      .object({
        enabled: z.boolean().default(false),
        /** Where Application objects live. */
        namespace: namespaceName.default('argocd'),
        /** Argo CD 2.x label tracking (`application.resourceTrackingMethod: label`); the annotation is read as well. */
        trackingLabel: z
          .string()
          .regex(/^([a-z0-9.-]+\/)?[A-Za-z0-9_.-]+$/, 'must be a label key')
          .default('app.kubernetes.io/instance'),
        /** An app-of-apps parent with self-heal would re-enable the child's automated sync: pause it too, or refuse. */
        parents: z.enum(['pause', 'refuse']).default('pause'),
      })
      .strict()
      .prefault({}),
    flux: z.object({ enabled: z.boolean().default(false) }).strict().prefault({}),
    /** `manual`: only an operator resumes (API, CLI); `onSourceChange`: also once the source has moved on. */
    resume: z.enum(['manual', 'onSourceChange']).default('manual'),
    /** How often paused objects' sources are checked (onSourceChange). */
    checkInterval: duration.refine((ms) => ms >= 1000, 'must be at least 1s').prefault('60s'),
  })
  .strict()
  .prefault({});

export type GitOpsFileConfig = z.output<typeof gitopsSchema>;

export interface GitOpsConfig {
  argocd: GitOpsFileConfig['argocd'];
  flux: GitOpsFileConfig['flux'];
  resume: GitOpsFileConfig['resume'];
  checkIntervalMs: number;
}

export function buildGitOpsConfig(c: GitOpsFileConfig): GitOpsConfig {
  return { argocd: c.argocd, flux: c.flux, resume: c.resume, checkIntervalMs: c.checkInterval };
}

export function gitopsEnabled(c: GitOpsConfig): boolean {
  return c.argocd.enabled || c.flux.enabled;
}
