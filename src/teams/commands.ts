/**
 * The one command registry. The parser (./parser.ts), `help`, argument errors and the
 * permission check all read this table, so they cannot drift apart (anchors.md C, lesson 8).
 * Handlers live in ./handlers.ts and get a CommandContext, not a botbuilder TurnContext, so the
 * commands survive a move to another bot SDK unchanged.
 */
import type { ItemId } from '../model';
import type { Text } from '../i18n';

/** `read` commands anyone in the conversation may use; `admin` ones change state or keep secrets. */
export type Role = 'read' | 'admin';

/** What an argument is, which decides how it is checked and suggested. */
export type ArgKind = 'environment' | 'item' | 'duration' | 'run' | 'mailbox' | 'command';

/** One positional argument of a command. */
export interface ArgSpec {
  /** Shown in syntax and errors, e.g. `ENV`. */
  name: string;
  kind: ArgKind;
  optional?: boolean;
}

/** Mute for this long; 0 clears the mute. */
export interface MuteDuration {
  ms: number;
  /** As typed, normalised (`4h`, `off`). */
  text: string;
}

/** Arguments after parsing, by kind (a command takes each kind at most once). */
/** A one-off maintenance window typed as `from START to END` (src/notify/windows.ts). */
export interface MuteWindow {
  from: Date;
  to: Date;
}

export interface ParsedArgs {
  environment?: string;
  item?: ItemId;
  duration?: MuteDuration;
  /** `mute ENV from START to END` instead of a duration. */
  window?: MuteWindow;
  run?: string;
  /** The inventory's spelling of the mailbox address. */
  mailbox?: string;
  command?: CommandName;
}

/** The commands, in the order `help` lists them. */
export const COMMAND_NAMES = [
  'check',
  'status',
  'history',
  'envs',
  'overview',
  'subscribe',
  'unsubscribe',
  'mute',
  'share',
  'signin',
  'help',
] as const;

export type CommandName = (typeof COMMAND_NAMES)[number];

/** A command as the registry describes it. */
export interface CommandSpec {
  name: CommandName;
  args: readonly ArgSpec[];
  description: Text;
  role: Role;
  /**
   * Listed in the Teams command menu (manifest/manifest.json `commandLists`), unless false.
   * The app manifest schema allows at most 10 commands per list (`commands` maxItems 10,
   * @microsoft/app-manifest MicrosoftTeams.schema.json v1.22); the others are found through
   * `help`, which lists every command.
   */
  menu?: false;
}

const ENV: ArgSpec = { name: 'ENV', kind: 'environment' };

/** The registry. Handlers are attached by name in ./handlers.ts. */
export const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'check',
    args: [ENV, { name: 'ITEM', kind: 'item', optional: true }],
    description: {
      en: 'Run the checklist against an environment (or one item of it); the card updates as items finish.',
      nl: 'Voer de checklist uit op een omgeving (of één item ervan); de kaart werkt bij zodra items klaar zijn.',
    },
    role: 'read',
  },
  {
    name: 'status',
    args: [{ ...ENV, optional: true }],
    description: {
      en: 'The latest result of an environment, or of all of them.',
      nl: 'Het laatste resultaat van een omgeving, of van alle omgevingen.',
    },
    role: 'read',
  },
  {
    name: 'history',
    args: [ENV, { name: 'ITEM', kind: 'item', optional: true }],
    description: {
      en: 'Uptime over 7 days with a chart, and recent runs, of an environment or one item.',
      nl: 'Beschikbaarheid over 7 dagen met een grafiek, en recente runs, van een omgeving of één item.',
    },
    role: 'read',
  },
  {
    name: 'envs',
    args: [],
    description: {
      en: 'The environments ecebot knows, with their release and last result.',
      nl: 'De omgevingen die ecebot kent, met hun release en laatste resultaat.',
    },
    role: 'read',
  },
  {
    name: 'overview',
    args: [],
    description: {
      en: 'Every environment you may see, worst first: its state, worst item and how long ago it last ran; flags a code failing in several tenants at once as a likely Microsoft-side incident.',
      nl: 'Alle omgevingen die je mag zien, de slechtste eerst: hun toestand, slechtste onderdeel en hoe lang geleden de laatste run was; markeert een code die in meerdere tenants tegelijk faalt als waarschijnlijke storing bij Microsoft.',
    },
    // On-call's view across customers: admins only, and still only what this place may see.
    role: 'admin',
    // The menu is full (10); on-call admins find it through `help`.
    menu: false,
  },
  {
    name: 'subscribe',
    args: [ENV],
    description: {
      en: 'Post a card here when a scheduled check of the environment starts failing, and when it recovers.',
      nl: 'Plaats hier een kaart wanneer een geplande controle van de omgeving begint te falen, en wanneer die herstelt.',
    },
    role: 'admin',
  },
  {
    name: 'unsubscribe',
    args: [ENV],
    description: {
      en: 'Stop the alerts of an environment in this conversation.',
      nl: 'Stop de meldingen van een omgeving in dit gesprek.',
    },
    role: 'admin',
  },
  {
    name: 'mute',
    args: [ENV, { name: 'DURATION', kind: 'duration' }],
    description: {
      en: 'Silence alerts (30m, 4h, 2d; off ends it), or from START to END (ISO times, UTC unless an offset is given).',
      nl: 'Demp meldingen (30m, 4h, 2d; off stopt het), of from START to END (ISO-tijden, UTC tenzij een verschil gegeven is).',
    },
    role: 'admin',
  },
  {
    name: 'share',
    args: [{ name: 'RUN', kind: 'run' }],
    description: {
      en: 'Post a snapshot of a run’s card to a subscribed channel or a channel of this team.',
      nl: 'Plaats een momentopname van de kaart van een run in een geabonneerd kanaal of een kanaal van dit team.',
    },
    // Posting into other conversations speaks for the bot there: an admin decision.
    role: 'admin',
  },
  {
    name: 'signin',
    args: [ENV, { name: 'MAILBOX', kind: 'mailbox' }],
    description: {
      en: 'Sign in for a mailbox with a device code, so ecebot can run the end-to-end mail checks with its token.',
      nl: 'Meld je aan voor een mailbox met een apparaatcode, zodat ecebot de end-to-end mailcontroles met dat token kan doen.',
    },
    role: 'admin',
  },
  {
    name: 'help',
    args: [{ name: 'COMMAND', kind: 'command', optional: true }],
    description: {
      en: 'This list, or the details of one command.',
      nl: 'Deze lijst, of de details van één opdracht.',
    },
    role: 'read',
  },
];

/**
 * Card buttons (`Action.Execute` verbs, ./bot.ts) and the role each needs: showing and
 * re-running a run is as open as `check`; sharing is `share`'s, so admins only. A verb not
 * listed here is unknown and answered as such.
 */
export const CARD_ACTIONS = {
  rerun: { role: 'read', command: 'check' },
  rerunFailed: { role: 'read', command: 'check' },
  showRun: { role: 'read', command: 'history' },
  share: { role: 'admin', command: 'share' },
  shareTo: { role: 'admin', command: 'share' },
  dismiss: { role: 'read', command: 'help' },
  // On-call buttons of an alert card: anyone who sees the environment in the conversation.
  ackAlert: { role: 'read', command: 'status' },
  resolveAlert: { role: 'read', command: 'status' },
  noteAlert: { role: 'read', command: 'status' },
  // The support bundle of a run (docs/support-bundle.md): a button only, named as the CLI's
  // command in the refusal; admins only, since the bundle holds the environment's inventory.
  bundle: { role: 'admin', command: 'bundle' },
} as const satisfies Record<string, { role: Role; command: CommandName | 'bundle' }>;

/** A card button's verb. */
export type CardVerb = keyof typeof CARD_ACTIONS;

/** The registry entry of a card button, or undefined for a verb this version does not know. */
export function cardAction(
  verb: string,
): ({ verb: CardVerb } & (typeof CARD_ACTIONS)[CardVerb]) | undefined {
  if (!Object.hasOwn(CARD_ACTIONS, verb)) return undefined;
  const known = verb as CardVerb;
  return { verb: known, ...CARD_ACTIONS[known] };
}

/** The registry entry of a command. */
export function commandSpec(name: CommandName): CommandSpec {
  const spec = COMMANDS.find(c => c.name === name);
  if (!spec) throw new Error(`command ${name} is not in the registry`);
  return spec;
}

/** `check ENV [ITEM]`: the syntax line, generated from the arguments. */
export function syntaxOf(spec: CommandSpec): string {
  return [spec.name, ...spec.args.map(a => (a.optional ? `[${a.name}]` : a.name))].join(' ');
}
