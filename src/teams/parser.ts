/**
 * From what a person typed to a command of the registry: mentions and markup stripped, words
 * split on any Unicode space, names matched case-insensitively, and every way the input can be
 * wrong turned into a typed error (with a "did you mean" where a close name exists), never an
 * exception. Reads only ./commands.ts and what the inventory knows.
 */
import { type ItemId } from '../model';
import { itemIds } from '../checklist/items';
import { suggest } from '../inventory/load';
import { parseInstant, type WindowProblem } from '../notify/windows';
import {
  COMMAND_NAMES,
  COMMANDS,
  type ArgSpec,
  type CommandName,
  type CommandSpec,
  type MuteDuration,
  type MuteWindow,
  type ParsedArgs,
} from './commands';

/** Longest input accepted, in characters (code points). A command is a few words. */
export const MAX_INPUT_CHARS = 500;
/**
 * Longest message looked at, in UTF-16 units, before any markup is removed: a command with its
 * mention and Teams' HTML wrapping is a few hundred characters. Checked first, because the
 * markup patterns below are quadratic on unclosed tags (a 100 KB `<a<a<a…` took seconds).
 */
export const MAX_RAW_CHARS = 4 * 1024;
/** Longest mute: a month; longer silences are better done with `unsubscribe`. */
const MAX_MUTE_MS = 30 * 24 * 3600 * 1000;

/** What the parser needs to know about the inventory. */
export interface ParseKnowledge {
  environments: readonly string[];
  /** Mailbox addresses of an environment. */
  mailboxes(environment: string): readonly string[];
}

/** Why an input is not a command. Values are echoed clipped, so errors stay short. */
export type ParseError =
  | { kind: 'empty' }
  | { kind: 'too-long'; length: number; max: number }
  | { kind: 'unknown-command'; word: string; suggestion?: CommandName }
  | { kind: 'missing-arg'; command: CommandName; arg: string }
  | { kind: 'extra-args'; command: CommandName; extra: string }
  | {
      kind: 'unknown-environment';
      command: CommandName;
      value: string;
      suggestion?: string;
      known: readonly string[];
    }
  | { kind: 'unknown-item'; command: CommandName; value: string; suggestion?: ItemId }
  | { kind: 'bad-duration'; command: CommandName; value: string }
  /** `mute ENV from START to END` that is not a window: why, and the word at fault (clipped). */
  | { kind: 'bad-window'; command: CommandName; problem: WindowProblem; value?: string }
  | {
      kind: 'unknown-mailbox';
      command: CommandName;
      environment: string;
      value: string;
      suggestion?: string;
      known: readonly string[];
    }
  | { kind: 'bad-run'; command: CommandName; value: string };

/** A parsed command, or why it is not one. */
export type ParseResult =
  { ok: true; command: CommandSpec; args: ParsedArgs } | { ok: false; error: ParseError };

const ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: ' ',
};

/**
 * The plain words of a Teams message: `<at>…</at>` mentions removed (Teams puts the bot's and
 * other people's mentions in the text as such tags), other markup removed, HTML entities
 * decoded, Unicode spaces collapsed. The bot's own mention is also removed by botbuilder's
 * `removeRecipientMention` before this runs; doing it here too covers other mentions.
 */
export function plainText(text: string): string {
  return (
    text
      .replace(/<at[^>]*>[\s\S]*?<\/at>/gi, ' ')
      .replace(/<[^>]*>/g, ' ')
      .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (m, e: string) => {
        if (e[0] === '#') {
          const n =
            e[1]?.toLowerCase() === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
          return Number.isFinite(n) && n > 0 && n <= 0x10ffff ? String.fromCodePoint(n) : ' ';
        }
        return ENTITIES[e.toLowerCase()] ?? m;
      })
      // Zero-width spaces and joiners are listed one by one: in a class they would read as joined.
      .replace(/(?:\s|\u200b|\u200c|\u200d|\u2060|\ufeff)+/gu, ' ')
      .trim()
  );
}

/** Echo user input in an error without letting it take over the card. */
function echo(s: string): string {
  const chars = [...s];
  return chars.length > 60 ? `${chars.slice(0, 59).join('')}…` : s;
}

/** Parse a duration like `30m`, `4h`, `2d`, `1w`, or `off` / `0` (end the mute). */
export function parseDuration(raw: string): MuteDuration | undefined {
  const s = raw.toLowerCase();
  if (s === 'off' || s === '0' || s === 'none' || s === 'uit') return { ms: 0, text: 'off' };
  const m = /^(\d{1,5})(m|min|h|u|d|w)$/.exec(s);
  if (!m) return undefined;
  const unit = m[2] === 'min' ? 'm' : m[2] === 'u' ? 'h' : m[2]!;
  const ms =
    Number(m[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[unit as 'm']!;
  if (ms <= 0 || ms > MAX_MUTE_MS) return undefined;
  return { ms, text: `${Number(m[1])}${unit}` };
}

/**
 * `from START to END` in place of a duration (`mute ENV from 2026-12-05T22:00 to
 * 2026-12-06T02:00`; Dutch `van … tot …` too): where it starts among the words and the window,
 * or why it is not one. Undefined when the duration's word is not `from`.
 */
function windowOf(
  spec: CommandSpec,
  rest: readonly string[],
):
  | { at: number; ok: true; window: MuteWindow }
  | { at: number; ok: false; error: ParseError }
  | undefined {
  const at = spec.args.findIndex(a => a.kind === 'duration');
  if (at < 0 || !/^(from|van)$/i.test(rest[at] ?? '')) return undefined;
  const command = spec.name;
  const bad = (problem: WindowProblem, value?: string) => ({
    at,
    ok: false as const,
    error: {
      kind: 'bad-window' as const,
      command,
      problem,
      ...(value !== undefined ? { value: echo(value) } : {}),
    },
  });
  const [, start, sep, end, ...extra] = rest.slice(at);
  if (!start || !sep || !end) return bad('incomplete');
  if (!/^(to|tot)$/i.test(sep)) return bad('no-to', sep);
  if (extra.length)
    return { at, ok: false, error: { kind: 'extra-args', command, extra: echo(extra.join(' ')) } };
  const from = parseInstant(start);
  if (!from) return bad('bad-time', start);
  const to = parseInstant(end);
  if (!to) return bad('bad-time', end);
  if (to.getTime() <= from.getTime()) return bad('end-before-start');
  if (to.getTime() - from.getTime() > MAX_MUTE_MS) return bad('too-long');
  return { at, ok: true, window: { from, to } };
}

type ArgOutcome = { ok: true; args: ParsedArgs } | { ok: false; error: ParseError };

function parseArg(
  spec: CommandSpec,
  arg: ArgSpec,
  word: string,
  args: ParsedArgs,
  k: ParseKnowledge,
): ArgOutcome {
  const lower = word.toLowerCase();
  const command = spec.name;
  switch (arg.kind) {
    case 'environment': {
      const hit = k.environments.find(e => e.toLowerCase() === lower);
      if (hit) return { ok: true, args: { ...args, environment: hit } };
      const suggestion = suggest(lower, [...k.environments]);
      return {
        ok: false,
        error: {
          kind: 'unknown-environment',
          command,
          value: echo(word),
          ...(suggestion ? { suggestion } : {}),
          known: k.environments,
        },
      };
    }
    case 'item': {
      const hit = itemIds().find(i => i === lower);
      if (hit) return { ok: true, args: { ...args, item: hit } };
      const suggestion = suggest(lower, itemIds()) as ItemId | undefined;
      return {
        ok: false,
        error: {
          kind: 'unknown-item',
          command,
          value: echo(word),
          ...(suggestion ? { suggestion } : {}),
        },
      };
    }
    case 'duration': {
      const d = parseDuration(word);
      return d
        ? { ok: true, args: { ...args, duration: d } }
        : { ok: false, error: { kind: 'bad-duration', command, value: echo(word) } };
    }
    case 'run':
      // Run ids are `<env>-<yyyymmddhhmmss>-<hex>`; existence is the handler's business (the store).
      return /^[a-z0-9][a-z0-9_-]{0,80}$/.test(lower)
        ? { ok: true, args: { ...args, run: lower } }
        : { ok: false, error: { kind: 'bad-run', command, value: echo(word) } };
    case 'mailbox': {
      const env = args.environment ?? '';
      const known = k.mailboxes(env);
      const hit = known.find(m => m.toLowerCase() === lower);
      if (hit) return { ok: true, args: { ...args, mailbox: hit } };
      const suggestion = suggest(lower, [...known]);
      return {
        ok: false,
        error: {
          kind: 'unknown-mailbox',
          command,
          environment: env,
          value: echo(word),
          ...(suggestion ? { suggestion } : {}),
          known,
        },
      };
    }
    case 'command': {
      const hit = COMMAND_NAMES.find(c => c === lower);
      if (hit) return { ok: true, args: { ...args, command: hit } };
      const suggestion = suggest(lower, [...COMMAND_NAMES]) as CommandName | undefined;
      return {
        ok: false,
        error: { kind: 'unknown-command', word: echo(word), ...(suggestion ? { suggestion } : {}) },
      };
    }
  }
}

/** Parse one message into a command of the registry. */
export function parseCommand(text: string, k: ParseKnowledge): ParseResult {
  if (text.length > MAX_RAW_CHARS)
    return { ok: false, error: { kind: 'too-long', length: text.length, max: MAX_INPUT_CHARS } };
  const plain = plainText(text);
  const length = [...plain].length;
  if (length > MAX_INPUT_CHARS)
    return { ok: false, error: { kind: 'too-long', length, max: MAX_INPUT_CHARS } };
  // A leading slash or the bot's name typed as text (not as a mention) is not part of the command.
  const words = plain
    .split(' ')
    .filter(Boolean)
    .filter((w, i) => !(i === 0 && /^@?ecebot[:,]?$/i.test(w)));
  if (words[0]?.startsWith('/')) words[0] = words[0].slice(1);
  const first = words[0];
  if (!first) return { ok: false, error: { kind: 'empty' } };
  const name = first.toLowerCase();
  const spec = COMMANDS.find(c => c.name === name);
  if (!spec) {
    const suggestion = suggest(name, [...COMMAND_NAMES]) as CommandName | undefined;
    return {
      ok: false,
      error: { kind: 'unknown-command', word: echo(first), ...(suggestion ? { suggestion } : {}) },
    };
  }
  const all = words.slice(1);
  const win = windowOf(spec, all);
  if (win && !win.ok) return { ok: false, error: win.error };
  // A window stands for the duration: its four words are one argument.
  const rest = win ? all.slice(0, win.at + 1) : all;
  if (rest.length > spec.args.length) {
    return {
      ok: false,
      error: {
        kind: 'extra-args',
        command: spec.name,
        extra: echo(rest.slice(spec.args.length).join(' ')),
      },
    };
  }
  let args: ParsedArgs = {};
  for (const [i, arg] of spec.args.entries()) {
    const word = rest[i];
    if (word === undefined) {
      if (arg.optional) continue;
      return { ok: false, error: { kind: 'missing-arg', command: spec.name, arg: arg.name } };
    }
    if (win && arg.kind === 'duration') {
      args = { ...args, window: win.window };
      continue;
    }
    const r = parseArg(spec, arg, word, args, k);
    if (!r.ok) return r;
    args = r.args;
  }
  return { ok: true, command: spec, args };
}
