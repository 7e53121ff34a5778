/** docs/decisions.md from DECISIONS (src/model.ts, in guard order) and their meanings (src/decision-meanings.ts). */
import { DECISION_MEANINGS } from '../../src/decision-meanings.js';
import { DECISIONS } from '../../src/model.js';
import { GENERATED_NOTE, markdownTable } from './markdown.js';

export function decisionsDoc(): string {
  return [
    '# Decisions',
    '',
    GENERATED_NOTE('`DECISIONS` in `src/model.ts` and `src/decision-meanings.ts`'),
    '',
    'Every alert gets exactly one decision, recorded with a human-readable reason that names the guard, the numbers and the target (`GET /api/v1/decisions`, the status page, the `/webhook` answer). The guards are checked in this order and the first that applies wins, so a frozen receiver answers `frozen` even for a target that is also cooling down. In dry-run mode decisions are recorded exactly as in live mode, cooldowns, retries and the brake included. Without a cluster the checks that need one (opt-in annotation, `stale`, `refused`) are skipped and the reason says so.',
    '',
    'Each decision is counted in `rollback_alerts_total{trigger,decision}` (see [metrics.md](metrics.md)).',
    '',
    markdownTable(
      ['#', 'decision', 'when', 'what follows', 'what to do'],
      DECISIONS.map((d, i) => [String(i + 1), `\`${d}\``, DECISION_MEANINGS[d].when, DECISION_MEANINGS[d].effect, DECISION_MEANINGS[d].action]),
    ),
    '',
  ].join('\n');
}
