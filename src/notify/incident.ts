/**
 * Incidents: the alert card with Acknowledge, Resolve and Add note (`Action.Execute`, verbs
 * `ackAlert`, `resolveAlert`, `noteAlert`; their data is parsed in src/teams/card-actions.ts),
 * the pure transitions those buttons make, and publishing a change to every conversation the
 * card was posted to.
 *
 * "Updated in place for everyone": the answer to an `adaptiveCard/action` invoke replaces the
 * card only for the person who pressed (Universal Actions, msteams-docs
 * Work-with-Universal-Actions / User-Specific-Views, teams-bot-notes.md §2 "Refresh /
 * user-specific views": "to change the base card for everyone, still call updateActivity").
 * So every change is also queued as an in-place update (PUT …/activities/{id}, Bot Framework
 * Connector REST API) of every post recorded for the incident, through the durable outbox.
 */
import type { Decision } from './alerts';
import { decisionParts, text } from './cards';
import type { Actor, Incident, IncidentState, Note } from './incident-state';
import { MAX_NOTE_CHARS } from './incident-state';
import type { Outbox, OutboxItem } from './outbox';
import type { Message, SendResult } from './types';
import type { Lang, Text } from '../i18n';
import { formatTime } from '../i18n';
import type { AdaptiveCard } from '../render/card-data';
import { escapeMarkdown, stripControls } from '../render/escape';

/** The card verbs of an incident (registered in src/teams/commands.ts CARD_ACTIONS). */
export const INCIDENT_VERBS = ['ackAlert', 'resolveAlert', 'noteAlert'] as const;
export type IncidentVerb = (typeof INCIDENT_VERBS)[number];

/** The id of the Input.Text a note is typed in (arrives in the invoke's data as `note`). */
export const NOTE_INPUT = 'note';

/** The incident id of a run's alert. */
export function incidentId(runId: string): string {
  return `inc-${runId}`;
}

/** A new open incident for an alert. */
export function openIncident(
  environment: string,
  runId: string,
  decisions: readonly Decision[],
  now: Date,
): Incident {
  const parts = decisionParts('alert', decisions);
  return {
    id: incidentId(runId),
    environment,
    runId,
    openedAt: now.toISOString(),
    items: decisions.map(d => d.item),
    recovered: [],
    lines: parts.lines,
    fixes: parts.fixes,
    status: 'open',
    notes: [],
    posts: [],
    rev: 0,
  };
}

/** Acknowledge: only an open incident; acknowledging twice keeps the first. */
export function acknowledge(i: Incident, by: Actor): Incident | undefined {
  if (i.status !== 'open') return undefined;
  return { ...i, status: 'acknowledged', acknowledged: by };
}

/** Resolve: anything not yet resolved. */
export function resolve(i: Incident, by: Actor): Incident | undefined {
  if (i.status === 'resolved') return undefined;
  return { ...i, status: 'resolved', resolved: by };
}

/** Add a note (already cleaned by cleanNote). */
export function addNote(i: Incident, note: Note): Incident {
  return { ...i, notes: [...i.notes, note] };
}

/** Items passed again; when every item has, ecebot resolves the incident itself. */
export function recover(i: Incident, items: readonly string[], at: Date): Incident | undefined {
  const mine = items.filter(x => i.items.includes(x) && !i.recovered.includes(x));
  if (!mine.length) return undefined;
  const recovered = [...i.recovered, ...mine];
  const all = i.items.every(x => recovered.includes(x));
  return {
    ...i,
    recovered,
    ...(all && i.status !== 'resolved'
      ? {
          status: 'resolved' as const,
          resolved: { id: 'ecebot', name: 'ecebot', at: at.toISOString() },
        }
      : {}),
  };
}

/** Record where a card was posted (once per conversation and activity). */
export function withPost(
  i: Incident,
  conversation: string,
  activityId: string,
): Incident | undefined {
  if (i.posts.some(p => p.conversation === conversation && p.activityId === activityId))
    return undefined;
  return { ...i, posts: [...i.posts, { conversation, activityId }] };
}

/**
 * A note as typed, made safe to keep: control characters (and bidi overrides) stripped, runs of
 * white space collapsed, trimmed; refused when empty or longer than MAX_NOTE_CHARS characters.
 * Escaping for the card happens when it is shown (render/escape.ts).
 */
export function cleanNote(
  raw: string,
): { ok: true; text: string } | { ok: false; problem: string } {
  const text = stripControls(raw).replace(/\s+/g, ' ').trim();
  if (!text) return { ok: false, problem: 'the note is empty: type it in the box, then Add note' };
  const n = [...text].length;
  if (n > MAX_NOTE_CHARS)
    return { ok: false, problem: `the note is ${n} characters; at most ${MAX_NOTE_CHARS}` };
  return { ok: true, text };
}

const T = {
  open: { en: 'Open: not acknowledged yet', nl: 'Open: nog niet bevestigd' },
  acknowledged: (who: string, when: string): Text => ({
    en: `Acknowledged by ${who} at ${when}`,
    nl: `Bevestigd door ${who} om ${when}`,
  }),
  resolved: (who: string, when: string): Text => ({
    en: `Resolved by ${who} at ${when}`,
    nl: `Opgelost door ${who} om ${when}`,
  }),
  recoveredItself: (when: string): Text => ({
    en: `Resolved: the checks pass again (${when})`,
    nl: `Opgelost: de controles slagen weer (${when})`,
  }),
  escalated: (when: string): Text => ({
    en: `Escalated at ${when}: nobody acknowledged it in time`,
    nl: `Geëscaleerd om ${when}: niemand bevestigde het op tijd`,
  }),
  title: (env: string): Text => ({ en: `${env}: checks failing`, nl: `${env}: controles falen` }),
  titleResolved: (env: string): Text => ({ en: `${env}: resolved`, nl: `${env}: opgelost` }),
  notes: { en: 'Notes', nl: 'Notities' },
  notePlaceholder: {
    en: `Add a note (at most ${MAX_NOTE_CHARS} characters)`,
    nl: `Voeg een notitie toe (hoogstens ${MAX_NOTE_CHARS} tekens)`,
  },
  ack: { en: 'Acknowledge', nl: 'Bevestigen' },
  resolve: { en: 'Resolve', nl: 'Oplossen' },
  note: { en: 'Add note', nl: 'Notitie toevoegen' },
  run: (id: string): Text => ({ en: `Run ${id}`, nl: `Run ${id}` }),
  moreNotes: (n: number): Text => ({ en: `… ${n} earlier`, nl: `… ${n} eerdere` }),
};

/** Notes shown on the card (the latest); all are kept up to MAX_NOTES. */
const NOTES_SHOWN = 5;

/** The status line of an incident. */
export function statusLine(i: Incident, lang: Lang): string {
  if (i.status === 'resolved' && i.resolved)
    return i.resolved.id === 'ecebot'
      ? T.recoveredItself(formatTime(i.resolved.at))[lang]
      : T.resolved(escapeMarkdown(i.resolved.name), formatTime(i.resolved.at))[lang];
  if (i.status === 'acknowledged' && i.acknowledged)
    return T.acknowledged(escapeMarkdown(i.acknowledged.name), formatTime(i.acknowledged.at))[lang];
  return T.open[lang];
}

/** The incident's card as it stands (the same for every conversation of one language). */
export function incidentCard(i: Incident, lang: Lang): AdaptiveCard {
  const resolved = i.status === 'resolved';
  const data = { incident: i.id };
  const shown = i.notes.slice(-NOTES_SHOWN);
  const body: Record<string, unknown>[] = [
    text(resolved ? T.titleResolved(i.environment)[lang] : T.title(i.environment)[lang], {
      size: 'Large',
      weight: 'Bolder',
      color: resolved ? 'Good' : 'Attention',
    }),
    text(`**${statusLine(i, lang)}**`, {
      color: i.status === 'open' ? 'Attention' : i.status === 'resolved' ? 'Good' : 'Accent',
      spacing: 'Small',
    }),
    ...(i.escalated
      ? [text(T.escalated(formatTime(i.escalated.at))[lang], { isSubtle: true })]
      : []),
    // One block per line, as the run card does: a host that reads no Markdown lists (older
    // clients, the adaptivecards renderer) would run them into one paragraph.
    ...i.lines.map(l => text(l, { spacing: 'Small' })),
    // Two items with one cause (a closed port fails network and connectivity) share their fix:
    // shown once.
    ...[...new Set(i.fixes)].map(f => text(`Fix: ${f}`, { isSubtle: true, spacing: 'Small' })),
    ...(shown.length
      ? [
          text(T.notes[lang], { weight: 'Bolder', spacing: 'Medium' }),
          ...(i.notes.length > shown.length
            ? [text(T.moreNotes(i.notes.length - shown.length)[lang], { isSubtle: true })]
            : []),
          ...shown.map(n =>
            text(`**${escapeMarkdown(n.by)}** (${formatTime(n.at)}): ${escapeMarkdown(n.text)}`, {
              spacing: 'Small',
            }),
          ),
        ]
      : []),
    text(T.run(i.runId)[lang], { isSubtle: true, size: 'Small' }),
    {
      type: 'Input.Text',
      id: NOTE_INPUT,
      placeholder: T.notePlaceholder[lang],
      maxLength: MAX_NOTE_CHARS,
      isMultiline: false,
    },
  ];
  const actions = [
    ...(i.status === 'open'
      ? [{ type: 'Action.Execute', title: T.ack[lang], verb: 'ackAlert', data }]
      : []),
    ...(!resolved
      ? [{ type: 'Action.Execute', title: T.resolve[lang], verb: 'resolveAlert', data }]
      : []),
    { type: 'Action.Execute', title: T.note[lang], verb: 'noteAlert', data },
  ];
  return {
    type: 'AdaptiveCard',
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    version: '1.5',
    body,
    actions,
  } as AdaptiveCard;
}

/** The incident as a message (the text is the notification preview). */
export function incidentMessage(i: Incident, lang: Lang): Message {
  return {
    text: `${(i.status === 'resolved' ? T.titleResolved : T.title)(i.environment)[lang]}: ${i.items.join(', ')} · ${statusLine(i, lang)}`,
    card: incidentCard(i, lang) as Record<string, unknown>,
  };
}

/** The language cards in a conversation speak (the Teams layer knows; English otherwise). */
export type LangOf = (conversation: string) => Promise<Lang>;
const english: LangOf = () => Promise.resolve('en');

/**
 * Queue an in-place update of every post of the incident (one outbox job per post and
 * revision: a retried caller queues nothing twice, a later revision is a new update).
 */
export async function publishIncident(
  outbox: Pick<Outbox, 'enqueue'>,
  i: Incident,
  langOf: LangOf = english,
): Promise<number> {
  for (const p of i.posts)
    await outbox.enqueue(
      {
        conversation: p.conversation,
        activityId: p.activityId,
        message: incidentMessage(i, await langOf(p.conversation)),
      },
      `incident-update-${i.id}-${i.rev}-${p.conversation}-${p.activityId}`,
    );
  return i.posts.length;
}

/**
 * The outbox's `onSent` for incident cards: remember where the card was posted, and if the
 * incident changed since the card was rendered (acknowledged while the send waited its turn),
 * queue an update of that post at once. Failures are logged, never thrown: the send happened,
 * and throwing would send it again.
 */
export function recordIncidentPosts(o: {
  state: IncidentState;
  outbox: () => Pick<Outbox, 'enqueue'>;
  langOf?: LangOf;
  onError?: (err: unknown, incident: string) => void;
}): (item: OutboxItem, result: SendResult) => Promise<void> {
  return async (item, result) => {
    const ref = item.incident;
    if (!ref || item.activityId || !result.activityId) return;
    try {
      const r = await o.state.update(ref.id, i =>
        withPost(i, item.conversation, result.activityId!),
      );
      if (!r || r.incident.rev - (r.changed ? 1 : 0) <= ref.rev) return;
      const post = { conversation: item.conversation, activityId: result.activityId };
      await publishIncident(o.outbox(), { ...r.incident, posts: [post] }, o.langOf);
    } catch (err) {
      o.onError?.(err, ref.id);
    }
  };
}
