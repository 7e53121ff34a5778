/**
 * Slack incoming webhook (the seed's `curl -X POST ... $SLACK_WEBHOOK`): `text` for the
 * push notification, Block Kit for the message (header, why, facts, links), and the
 * seed's optional `channel`. The webhook URL is itself the secret: never logged.
 */
import type { HttpRequestSpec } from './http.js';
import { HttpChannel, type ChannelDeps, type ChannelSettings } from './channel.js';
import { truncate, type NotificationMessage } from './message.js';
import type { NotificationEvent } from './notifier.js';

export interface SlackOptions {
  webhookUrl: string;
  /** Legacy webhooks honour it; app webhooks post to their own channel. */
  channel?: string;
}

const ICON: Record<string, string> = {
  critical: '🚨',
  error: '🔴',
  warning: '⚠️',
  info: 'ℹ️',
};

/** Slack mrkdwn control characters (https://api.slack.com/reference/surfaces/formatting#escaping). */
export function slackEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function slackLink(url: string, text: string): string {
  const safeUrl = url.replace(/\|/g, '%7C').replace(/</g, '%3C').replace(/>/g, '%3E');
  return `<${safeUrl}|${slackEscape(text)}>`;
}

export function slackIcon(message: NotificationMessage): string {
  if (message.dryRun) return '🧪';
  if (message.type === 'recovered' || message.type === 'rollback_succeeded') return '✅';
  return ICON[message.severity] ?? '';
}

/** The Slack payload for a message: pure, so tests and previews can use it. */
export function slackPayload(message: NotificationMessage, channel?: string): Record<string, unknown> {
  const heading = `${slackIcon(message)} ${message.title}`.trim();
  const blocks: Record<string, unknown>[] = [
    { type: 'header', text: { type: 'plain_text', text: truncate(heading, 150), emoji: true } },
  ];
  if (message.text) {
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: truncate(slackEscape(message.text), 3000) } });
  }
  if (message.fields.length > 0) {
    blocks.push({
      type: 'section',
      fields: message.fields.slice(0, 10).map((f) => ({ type: 'mrkdwn', text: truncate(`*${slackEscape(f.name)}*\n${slackEscape(f.value)}`, 2000) })),
    });
  }
  if (message.links.length > 0) {
    blocks.push({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: truncate(message.links.map((l) => slackLink(l.url, l.text)).join(' · '), 3000) }],
    });
  }
  return {
    ...(channel ? { channel } : {}),
    text: truncate(slackEscape(heading), 3000),
    blocks,
  };
}

export class SlackNotifier extends HttpChannel {
  constructor(
    private readonly options: SlackOptions,
    settings: ChannelSettings,
    deps: ChannelDeps,
  ) {
    super('slack', settings, [options.webhookUrl], deps);
  }

  protected override request(_event: NotificationEvent, message: NotificationMessage): HttpRequestSpec {
    return { method: 'POST', url: this.options.webhookUrl, body: slackPayload(message, this.options.channel) };
  }

  protected override details(): string {
    return this.options.channel ? `channel ${this.options.channel}` : '';
  }
}
