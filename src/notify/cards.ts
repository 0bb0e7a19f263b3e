/**
 * Notification cards: small Adaptive Cards (schema 1.5, which Teams renders) built as pure
 * functions of decisions and forecasts. The run card itself belongs to the Teams layer
 * (cards/); these are the proactive alerts, recoveries, reminders and the forecast digest.
 */
import { findingSummary, itemTitle, remediationText } from '../i18n';
import type { AdaptiveCard } from '../render/card-data';
import type { Decision } from './alerts';
import type { Forecast } from './forecast';
import type { Message } from './types';

/** A card element, as the notification cards build them. */
export type Card = Record<string, unknown>;

/** A version 1.5 card of these elements (the notification cards: alerts, notices, incidents). */
export const card = (body: Card[]): AdaptiveCard => ({
  type: 'AdaptiveCard',
  $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
  version: '1.5',
  body,
});

/** A wrapping TextBlock. */
export const text = (t: string, extra: Card = {}): Card => ({
  type: 'TextBlock',
  text: t,
  wrap: true,
  ...extra,
});

const TITLES: Record<Decision['kind'], (env: string) => string> = {
  alert: env => `${env}: checks failing`,
  reminder: env => `${env}: still failing`,
  recovery: env => `${env}: recovered`,
};

/** The lines and first fixes of decisions of one kind (the alert card and incidents share them). */
export function decisionParts(
  kind: Decision['kind'],
  decisions: readonly Decision[],
): { lines: string[]; fixes: string[] } {
  const lines = decisions.map(d => {
    // Alerts are English: the outbox does not know the reader's language.
    const title = itemTitle(d.item, 'en');
    const where = d.finding.failedOn.length ? ` (on ${d.finding.failedOn.join(', ')})` : '';
    return kind === 'recovery'
      ? `- **${title}** passes again`
      : `- **${title}**: ${findingSummary(d.finding, 'en')}${where} — ${d.failures} scheduled runs in a row`;
  });
  const fixes =
    kind === 'recovery'
      ? []
      : decisions
          .flatMap(d => d.finding.remediation.slice(0, 1))
          .map(f => remediationText(f, 'en'));
  return { lines, fixes };
}

/** One card for every decision of one kind from one run (one alert, not one per item). */
export function decisionMessage(
  environment: string,
  runId: string,
  kind: Decision['kind'],
  decisions: readonly Decision[],
): Message {
  const { lines, fixes } = decisionParts(kind, decisions);
  const body: Card[] = [
    text(TITLES[kind](environment), {
      size: 'Large',
      weight: 'Bolder',
      color: kind === 'recovery' ? 'Good' : 'Attention',
    }),
    text(lines.join('\n')),
    ...fixes.map(f => text(`Fix: ${f}`, { isSubtle: true, spacing: 'Small' })),
    text(`Run ${runId}`, { isSubtle: true, size: 'Small' }),
  ];
  return {
    text: `${TITLES[kind](environment)}: ${decisions.map(d => d.item).join(', ')}`,
    card: card(body),
  };
}

const KIND_NAMES: Record<Forecast['kind'], string> = {
  'entra-secret': 'Entra client secret',
  'entra-certificate': 'Entra certificate',
  'tls-certificate': 'TLS certificate',
};

/** The daily digest of what will expire within 30 days. */
export function digestMessage(environment: string, items: readonly Forecast[]): Message {
  const lines = items.map(
    f =>
      `- ${f.within === 7 ? '**Urgent** ' : ''}${KIND_NAMES[f.kind]} ${f.subject} expires in ${f.days} day${f.days === 1 ? '' : 's'} (${f.expiresAt.slice(0, 10)})`,
  );
  return {
    text: `${environment}: ${items.length} expiring within 30 days`,
    card: card([
      text(`${environment}: expiring soon`, { size: 'Large', weight: 'Bolder', color: 'Warning' }),
      text(lines.join('\n')),
    ]),
  };
}
