/** Renders zod issues as `key.path: message` lines, for config errors and HTTP 400s alike. */
import type { z } from 'zod';

export function issueMessage(issue: z.core.$ZodIssue): string {
  return issue.code === 'unrecognized_keys'
    ? `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`
    : issue.message;
}

export function issuePath(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`)).join('');
}

export function formatIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.map((issue) => {
    const key = issuePath(issue.path);
    return key ? `${key}: ${issueMessage(issue)}` : issueMessage(issue);
  });
}
