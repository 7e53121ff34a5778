/** The `notifications:` block: schema, defaults, secrets from env and files, and errors that name keys but never secrets. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '../../src/config/load.js';
import { formatIssues } from '../../src/config/issues.js';
import { buildNotifiers } from '../../src/notify/build.js';
import { notificationsSchema } from '../../src/notify/config.js';
import { notificationsConfig, testLogger } from './support.js';

const SLACK_URL = 'https://hooks.slack.com/services/T0000/B0000/XXXXsecretXXXX';
const ROUTING_KEY = 'R0UT1NGKEYabcdef0123456789abcdef';
const STATUS_TOKEN = 'status-api-key-7f3a9c';

function secretFile(content: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'rr-notify-')), 'secret');
  writeFileSync(file, content);
  return file;
}

function schemaProblems(yaml: string): string[] {
  const parsed = notificationsSchema.safeParse(parseYaml(yaml) ?? {});
  if (parsed.success) throw new Error('expected schema problems');
  return formatIssues(parsed.error.issues);
}

function build(yaml: string, env: Record<string, string> = {}, extra: { triggers?: string[] } = {}) {
  const { log, logs } = testLogger();
  const channels = buildNotifiers(notificationsConfig(yaml), env, { log, source: '/etc/rollback-receiver/config.yaml', ...extra });
  return { channels, logs };
}

function buildProblems(yaml: string, env: Record<string, string> = {}, extra: { triggers?: string[] } = {}): { problems: string[]; message: string } {
  try {
    build(yaml, env, extra);
  } catch (err) {
    if (err instanceof ConfigError) return { problems: err.problems, message: err.message };
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('notifications config', () => {
  it('is empty by default: no channels, 4 attempts 1s..30s, 10s timeout', () => {
    const c = notificationsSchema.parse(undefined);
    expect(c).toEqual({ retry: { attempts: 4, minBackoff: 1000, maxBackoff: 30_000 }, timeout: 10_000 });
    expect(build('').channels).toEqual([]);
  });

  it('takes durations as seconds or strings, per channel overrides too', () => {
    const c = notificationsConfig('retry: { attempts: 6, minBackoff: 500ms, maxBackoff: 2m }\ntimeout: 5\nslack: { retry: { attempts: 2 }, timeout: 1s }\n');
    expect(c.retry).toEqual({ attempts: 6, minBackoff: 500, maxBackoff: 120_000 });
    expect(c.timeout).toBe(5000);
    expect(c.slack).toMatchObject({ retry: { attempts: 2 }, timeout: 1000 });
  });

  it('rejects unknown keys, bad events, bad URLs and bad durations, naming the key', () => {
    expect(schemaProblems('slak: {}\n')).toEqual(['unknown key "slak"']);
    expect(schemaProblems('slack: { webhookURL: x }\n')).toEqual(['slack: unknown key "webhookURL"']);
    expect(schemaProblems('slack: { events: [rollback_start] }\n')[0]).toMatch(/^slack\.events/);
    expect(schemaProblems('slack: { events: [] }\n')).toEqual(['slack.events: list at least one event, or remove the channel']);
    expect(schemaProblems('statuspage: { url: "ftp://status.example.com" }\n')).toEqual(['statuspage.url: must be an http:// or https:// URL']);
    expect(schemaProblems('statuspage: {}\n')[0]).toMatch(/^statuspage\.url/);
    expect(schemaProblems('receiverUrl: not-a-url\n')).toEqual(['receiverUrl: must be an http:// or https:// URL']);
    expect(schemaProblems('timeout: 10x\n')[0]).toMatch(/^timeout: "10x" is not a duration/);
    expect(schemaProblems('timeout: 0\n')).toEqual(['timeout: must be more than 0']);
    expect(schemaProblems('retry: { attempts: 0 }\n')[0]).toMatch(/^retry\.attempts/);
    expect(schemaProblems('pagerduty: { severity: { escalated: high } }\n')).toEqual(['pagerduty.severity.escalated: must be one of critical, error, warning, info']);
    expect(schemaProblems('pagerduty: { severity: { escalation: critical } }\n')).toEqual(['pagerduty.severity: unknown key "escalation"']);
    expect(schemaProblems('statuspage: { url: "https://s.example.com/i", status: { recovered: fixed } }\n')).toEqual([
      'statuspage.status.recovered: must be one of investigating, identified, monitoring, resolved',
    ]);
    expect(schemaProblems('webhook: {}\n')).toEqual(['webhook: needs url (or urlFile / urlEnv)']);
    expect(schemaProblems('webhook: { url: "https://h.example.com", headers: { "Bad Header": x } }\n')[0]).toEqual('webhook.headers.Bad Header: "Bad Header" is not a valid HTTP header name');
    expect(schemaProblems('webhook: { url: "https://h.example.com", headers: { Content-Type: text/plain } }\n')).toEqual(['webhook.headers.Content-Type: "Content-Type" is set by the receiver']);
  });

  it('rejects two sources for one secret', () => {
    expect(schemaProblems('slack: { webhookUrlFile: /a, webhookUrlEnv: B }\n')).toEqual(['slack.webhookUrlEnv: give one of webhookUrlFile, webhookUrlEnv, not several']);
    expect(schemaProblems('pagerduty: { routingKey: { env: A, file: /b } }\n')).toEqual(['pagerduty.routingKey: give exactly one of value, env, file']);
  });

  it('checks status-page message placeholders', () => {
    expect(schemaProblems('statuspage: { url: "https://s.example.com/i", messages: { rollback_started: "{service} is down" } }\n')[0]).toMatch(
      /^statuspage\.messages\.rollback_started: unknown placeholder \{service\} \(known: \{title\}/,
    );
  });
});

describe('secrets', () => {
  it('come from the default environment variables', () => {
    const { channels } = build('slack: {}\npagerduty: {}\nstatuspage: { url: "https://status.example.com/incidents" }\n', {
      SLACK_WEBHOOK_URL: SLACK_URL,
      PAGERDUTY_ROUTING_KEY: ROUTING_KEY,
      STATUS_API_KEY: STATUS_TOKEN,
    });
    expect(channels.map((c) => c.channel)).toEqual(['slack', 'pagerduty', 'statuspage']);
  });

  it('come from named environment variables and from files (trimmed)', () => {
    const slackFile = secretFile(`${SLACK_URL}\n`);
    const tokenFile = secretFile(`  ${STATUS_TOKEN}\n`);
    const keyFile = secretFile(`${ROUTING_KEY}\n`);
    const { channels, logs } = build(
      `slack: { webhookUrlFile: ${slackFile} }\npagerduty: { routingKeyEnv: PD_KEY_PROD }\n` +
        `statuspage: { url: "https://status.example.com/incidents", token: { file: ${tokenFile} } }\n` +
        `webhook: { urlEnv: HOOK_URL, headers: { X-Key: { file: ${keyFile} } } }\n`,
      { PD_KEY_PROD: ROUTING_KEY, HOOK_URL: 'https://hooks.example.com/in?token=abc123' },
    );
    expect(channels.map((c) => c.channel)).toEqual(['slack', 'pagerduty', 'webhook', 'statuspage']);
    expect(logs.lines).toEqual([]);
  });

  it('inline secrets work but are warned about, by key only', () => {
    const { channels, logs } = build(`pagerduty: { routingKey: ${ROUTING_KEY} }\n`);
    expect(channels).toHaveLength(1);
    expect(logs.text()).toContain('notifications.pagerduty.routingKey');
    expect(logs.text()).toContain('prefer routingKeyFile or routingKeyEnv');
    expect(logs.text()).not.toContain(ROUTING_KEY);
  });

  it('a missing secret is a ConfigError naming the key, the variable and the alternatives', () => {
    const { problems, message } = buildProblems('slack: {}\npagerduty: {}\nstatuspage: { url: "https://status.example.com/incidents" }\n');
    expect(problems).toEqual([
      'notifications.slack.webhookUrl: not configured: set the environment variable SLACK_WEBHOOK_URL, or give webhookUrlFile or webhookUrlEnv',
      'notifications.pagerduty.routingKey: not configured: set the environment variable PAGERDUTY_ROUTING_KEY, or give routingKeyFile or routingKeyEnv',
      'notifications.statuspage.token: not configured: set the environment variable STATUS_API_KEY, or give tokenFile or tokenEnv',
    ]);
    expect(message).toContain('invalid configuration (/etc/rollback-receiver/config.yaml)');
  });

  it('a named variable that is unset, or a file that is missing or empty, is named too', () => {
    const empty = secretFile('\n');
    const { problems } = buildProblems(
      `slack: { webhookUrlEnv: MY_SLACK }\npagerduty: { routingKeyFile: /nonexistent/pd-key }\nstatuspage: { url: "https://s.example.com/i", tokenFile: ${empty} }\n` +
        `webhook: { url: "https://h.example.com/x", headers: { Authorization: { env: HOOK_AUTH } } }\n`,
    );
    expect(problems).toEqual([
      'notifications.slack.webhookUrlEnv: the environment variable MY_SLACK is not set',
      'notifications.pagerduty.routingKeyFile: cannot read /nonexistent/pd-key (ENOENT)',
      'notifications.webhook.headers.Authorization.env: the environment variable HOOK_AUTH is not set',
      `notifications.statuspage.tokenFile: ${empty} is empty`,
    ]);
  });

  it('an unreadable file says why without its content', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rr-notify-dir-'));
    const { problems } = buildProblems(`pagerduty: { routingKeyFile: ${dir} }\n`);
    expect(problems).toEqual([`notifications.pagerduty.routingKeyFile: cannot read ${dir} (EISDIR)`]);
  });

  it('a Slack webhook URL that is not a URL is refused without echoing it', () => {
    const { problems, message } = buildProblems('slack: {}\n', { SLACK_WEBHOOK_URL: 'hooks.slack.com/services/T0/B0/notAUrlSecret' });
    expect(problems).toEqual(['notifications.slack.webhookUrl: the value from environment variable SLACK_WEBHOOK_URL is not an http:// or https:// URL']);
    expect(message).not.toContain('notAUrlSecret');
  });

  it('pagerduty.startedBy must name configured triggers, when the triggers are known', () => {
    const { problems } = buildProblems('pagerduty: { startedBy: [error_rate, errors] }\n', { PAGERDUTY_ROUTING_KEY: ROUTING_KEY }, { triggers: ['health_check', 'error_rate'] });
    expect(problems).toEqual(['notifications.pagerduty.startedBy: "errors" is not a configured trigger (triggers: health_check, error_rate)']);
    // The default (error_rate) is fine even when no such trigger is configured: it then simply never pages on a start.
    expect(build('pagerduty: {}\n', { PAGERDUTY_ROUTING_KEY: ROUTING_KEY }, { triggers: ['custom'] }).channels).toHaveLength(1);
  });

  it('minBackoff above maxBackoff is a config error', () => {
    const { problems } = buildProblems('retry: { minBackoff: 1m, maxBackoff: 10s }\nslack: {}\n', { SLACK_WEBHOOK_URL: SLACK_URL });
    expect(problems).toEqual(['notifications.retry: minBackoff (60000 ms) is more than maxBackoff (10000 ms)']);
  });
});
