import { randomBytes } from 'node:crypto';

/** Short, time-ordered, unique ids: "<time base36>-<random hex>". */
export function newId(now: number = Date.now()): string {
  return `${now.toString(36).padStart(9, '0')}-${randomBytes(5).toString('hex')}`;
}
