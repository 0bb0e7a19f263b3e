/**
 * The data each card button sends, one zod schema per verb. `Action.Execute` data comes back
 * from the client as the card carried it, plus the card's inputs (the share picker's `target`):
 * anything a crafted or outdated card puts there arrives here, so the bot parses it before it
 * acts and refuses what does not parse (./bot.ts). The fields are the ones the templates send:
 * cards/run.json (rerun, rerunFailed, share, bundle), cards/history.json (showRun),
 * cards/share-picker.json (shareTo, showRun, dismiss), the support bundle's answer
 * (src/teams/bundle-links.ts: showRun), and the alert card of src/notify/incident.ts
 * (ackAlert, resolveAlert, noteAlert); test/teams/card-actions.test.ts checks every button of
 * every template against these schemas.
 *
 * Unknown fields are dropped, not refused: Teams may add its own to an invoke's data.
 */
import { z } from 'zod';
import { type ItemId } from '../model';
import { itemIds } from '../checklist/items';
import type { CardVerb } from './commands';
import { decodeShareTarget } from './share-target';
import { cleanNote } from '../notify/incident';
import { MAX_NOTE_CHARS } from '../notify/incident-state';

/** Run ids are `<environment>-<yyyymmddhhmmss>-<hex>`; the bound only keeps junk short. */
const runId = z.string().min(1, 'no run named').max(200);

/** An environment name as the run card carries it; the inventory decides whether it exists. */
const environment = z.string().max(200);

/** Show at most this much of a bad value in a refusal. */
const SHOWN = 60;
const shown = (s: string) => JSON.stringify(s.length > SHOWN ? `${s.slice(0, SHOWN)}…` : s);

/**
 * The items of a re-run, comma-separated as the run card carries them: every one a known item
 * id, in checklist order; empty means every item.
 */
const items = z
  .string()
  .max(1000)
  .transform((raw, ctx): ItemId[] | undefined => {
    const wanted = raw
      .split(',')
      .map(s => s.trim())
      .filter(Boolean);
    const unknown = wanted.filter(w => !itemIds().includes(w as ItemId));
    for (const w of unknown)
      ctx.addIssue({
        code: 'custom',
        message: `${shown(w)} is not a checklist item (items: ${itemIds().join(', ')})`,
      });
    if (unknown.length) return z.NEVER;
    const list = itemIds().filter(i => wanted.includes(i));
    return list.length ? list : undefined;
  });

/** Re-run (all the card's items) and Re-run failed items (the failed ones). */
const rerunData = z.object({
  /** The run the card shows; its environment when the button names none. */
  runId: z.string().max(200).default(''),
  environment: environment.optional(),
  items: items.optional(),
});

const runData = z.object({ runId });

/** The picker's choice (`target`, see ./share-target.ts) and where the answer goes. */
const shareToData = z.object({
  runId,
  /** `run`: answer with the run card (the picker replaced it); `notice`: with a notice. */
  back: z.enum(['run', 'notice']),
  target: z
    .string({ message: 'no place chosen' })
    .max(2000)
    .transform((value, ctx) => {
      const t = decodeShareTarget(value);
      if (!t) {
        ctx.addIssue({ code: 'custom', message: `${shown(value)} is not a place to share to` });
        return z.NEVER;
      }
      return t;
    }),
});

/** Cancel of a picker posted by `share RUN`: nothing to read. */
const dismissData = z.object({ runId: z.string().max(200).optional() });

/** An incident id as src/notify/incident.ts makes it: `inc-<run id>`. */
const incident = z
  .string({ message: 'no alert named' })
  .regex(/^inc-[a-z0-9][a-z0-9_-]{0,200}$/, { message: 'not an alert of ecebot' });

/** Acknowledge and Resolve: the alert the card shows. */
const incidentData = z.object({ incident });

/**
 * Add note: the alert and the text typed in the card's `note` box (user input: control
 * characters stripped, white space collapsed, at most MAX_NOTE_CHARS; escaped when shown).
 */
const noteData = z.object({
  incident,
  note: z
    .string({ message: 'the note is empty: type it in the box, then Add note' })
    .max(MAX_NOTE_CHARS * 4, { message: `at most ${MAX_NOTE_CHARS} characters` })
    .transform((raw, ctx) => {
      const c = cleanNote(raw);
      if (!c.ok) {
        ctx.addIssue({ code: 'custom', message: c.problem });
        return z.NEVER;
      }
      return c.text;
    }),
});

/** The schema of every card verb (./commands.ts CARD_ACTIONS names the verbs). */
export const CARD_ACTION_DATA = {
  rerun: rerunData,
  rerunFailed: rerunData,
  share: runData,
  shareTo: shareToData,
  showRun: runData,
  dismiss: dismissData,
  ackAlert: incidentData,
  resolveAlert: incidentData,
  noteAlert: noteData,
  bundle: runData,
} as const satisfies Record<CardVerb, z.ZodType>;

/** A button press with its parsed data, narrowed by verb. */
export type CardAction = {
  [V in CardVerb]: { verb: V; data: z.output<(typeof CARD_ACTION_DATA)[V]> };
}[CardVerb];

/** Parsed, or what is wrong with the data (field and problem, for the refusal card). */
export type ParsedCardAction = { ok: true; action: CardAction } | { ok: false; problem: string };

/** Parse the data a button of a known verb sent. */
export function parseCardAction(verb: CardVerb, data: unknown): ParsedCardAction {
  const r = CARD_ACTION_DATA[verb].safeParse(data ?? {});
  if (r.success) return { ok: true, action: { verb, data: r.data } as CardAction };
  return {
    ok: false,
    problem: r.error.issues
      .map(i => `${i.path.length ? i.path.join('.') : 'data'}: ${i.message}`)
      .join('; '),
  };
}
