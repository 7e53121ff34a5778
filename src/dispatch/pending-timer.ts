/**
 * One timer for the earliest pending intent. Node timers drift and cap at ~24.8 days,
 * so on firing it just asks the dispatcher to decide whatever is due by the clock.
 */
import type { Clock } from '../clock.js';

const MAX_DELAY = 2 ** 31 - 1;

export class PendingTimer {
  private timer: NodeJS.Timeout | undefined;
  private nextAt = Infinity;
  private stopped = false;

  constructor(
    private readonly clock: Clock,
    private readonly onDue: () => Promise<void>,
    /** A failure of onDue is reported here, never left unhandled. */
    private readonly onError: (err: Error) => void,
  ) {}

  schedule(at: number): void {
    if (this.stopped || at >= this.nextAt) return;
    clearTimeout(this.timer);
    this.nextAt = at;
    const delay = Math.min(Math.max(0, at - this.clock.now()), MAX_DELAY);
    this.timer = setTimeout(() => this.fire(), delay);
  }

  private fire(): void {
    this.timer = undefined;
    this.nextAt = Infinity;
    this.onDue().catch((err: unknown) => this.onError(err as Error));
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }
}
