/**
 * Names, labels and annotations of the objects the Kubernetes backend keeps in the
 * receiver's namespace. Names are hashes (object names can be longer than a Lease name
 * may be); the readable key is in an annotation, so `kubectl get leases -o yaml` says
 * what each one locks.
 */
import { createHash } from 'node:crypto';

export const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'rollback-receiver' };
export const KIND_LABEL = 'rollback-receiver.io/kind';
export const OBJECT_ANNOTATION = 'rollback-receiver.io/object';
export const TARGET_ANNOTATION = 'rollback-receiver.io/target';
export const ROLLBACK_ANNOTATION = 'rollback-receiver.io/rollback';
export const LEDGER_KEY = 'ledger.json';

function hash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 20);
}

/** The Lease locking one object a rollback touches. */
export function lockName(objectKey: string): string {
  return `rollback-receiver-lock-${hash(objectKey)}`;
}

/** The ConfigMap holding one target's ledger. */
export function targetStateName(targetKey: string): string {
  return `rollback-receiver-target-${hash(targetKey)}`;
}

/** The ConfigMap holding one monitoring window's state. */
export function windowStateName(windowId: string): string {
  return `rollback-receiver-window-${hash(windowId)}`;
}

export const GLOBAL_STATE_NAME = 'rollback-receiver-global';
