/**
 * Creates and expires the receiver's own silences (see rollback-silence.ts). Never fails
 * a rollback: Alertmanager trouble is logged, and every silence ends by itself at its
 * planned end anyway.
 */
import type { Logger } from 'pino';
import type { RollbackRecord } from '../store/records.js';
import type { AlertmanagerClient, PostableSilence } from './client.js';
import { SILENCE_STEP, silenceRollbackId } from './rollback-silence.js';

export class SilenceKeeper {
  constructor(
    private readonly client: AlertmanagerClient,
    private readonly log: Logger,
  ) {}

  /** Creates the silence planned for a live rollback, if it has one. */
  async create(rollback: RollbackRecord): Promise<void> {
    const planned = rollback.steps.find((s) => s.name === SILENCE_STEP)?.request?.body as PostableSilence | undefined;
    if (!planned) return;
    try {
      const id = await this.client.createSilence(planned);
      this.log.info({ rollbackId: rollback.id, silenceId: id, endsAt: planned.endsAt }, 'silenced the target\'s rollback alerts in Alertmanager');
    } catch (err) {
      this.log.warn({ rollbackId: rollback.id, err: (err as Error).message }, 'could not create the silence for the rollback; its alerts keep arriving (in_progress, cooldown)');
    }
  }

  /** Expires every active silence of the receiver's for this rollback (found in Alertmanager, so a restart loses none). */
  async expire(rollbackId: string, why: string): Promise<void> {
    await this.expireWhere((id) => id === rollbackId, why);
  }

  /** At start: expires the receiver's silences whose rollback is over (`open` says which are not). */
  async sweep(open: (rollbackId: string) => boolean): Promise<void> {
    await this.expireWhere((id) => !open(id), 'its rollback and monitoring window ended while the receiver was down');
  }

  private async expireWhere(match: (rollbackId: string) => boolean, why: string): Promise<void> {
    try {
      for (const s of await this.client.silences()) {
        const rollbackId = silenceRollbackId(s);
        if (s.state === 'expired' || rollbackId === undefined || !match(rollbackId)) continue;
        await this.client.expireSilence(s.id);
        this.log.info({ rollbackId, silenceId: s.id }, `expired the rollback's silence in Alertmanager: ${why}`);
      }
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, `could not expire the receiver's silences in Alertmanager (${why}); they end at their planned end`);
    }
  }
}
