/** Validates a JSON body as an Alertmanager v4 payload, listing every problem found. */
import { formatIssues } from '../config/issues.js';
import { toAlerts, webhookPayloadSchema, type ParsedPayload } from './payload.js';

const MAX_PROBLEMS = 50;

export type ParseResult = { ok: true; payload: ParsedPayload } | { ok: false; problems: string[] };

export function parsePayload(body: unknown): ParseResult {
  const result = webhookPayloadSchema.safeParse(body);
  if (result.success) return { ok: true, payload: toAlerts(result.data) };
  const problems = formatIssues(result.error.issues);
  if (problems.length > MAX_PROBLEMS) {
    const more = problems.length - MAX_PROBLEMS;
    problems.splice(MAX_PROBLEMS, more, `… and ${more} more problems`);
  }
  return { ok: false, problems };
}
