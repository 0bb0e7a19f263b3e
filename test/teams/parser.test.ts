/**
 * The command registry and the parser: every command of the design is registered with its
 * syntax, both languages and a role; the parser reads the registry for names, arity and
 * argument kinds, and turns every kind of bad input into a typed error with a suggestion.
 */
import { itemIds } from '../../src/checklist/items';
import { COMMAND_NAMES, COMMANDS, syntaxOf } from '../../src/teams/commands';
import { helpCard, parseErrorCard } from '../../src/teams/cards';
import { handlerOf } from '../../src/teams/handlers';
import { langOf } from '../../src/i18n';
import {
  MAX_INPUT_CHARS,
  parseCommand,
  parseDuration,
  plainText,
  type ParseKnowledge,
} from '../../src/teams/parser';
import { cardTexts } from './support/adaptive';

const k: ParseKnowledge = {
  environments: ['prod', 'staging', 'lab'],
  mailboxes: env =>
    env === 'prod' ? ['support@example.com', 'sales@example.com'] : ['desk@lab.example.com'],
};

function ok(text: string) {
  const r = parseCommand(text, k);
  if (!r.ok)
    throw new Error(`expected ${JSON.stringify(text)} to parse: ${JSON.stringify(r.error)}`);
  return r;
}

function err(text: string) {
  const r = parseCommand(text, k);
  if (r.ok) throw new Error(`expected ${JSON.stringify(text)} to fail, got ${r.command.name}`);
  return r.error;
}

describe('registry', () => {
  test('holds exactly the design’s commands with syntax, English and Dutch text, role and handler', () => {
    expect(COMMANDS.map(syntaxOf)).toEqual([
      'check ENV [ITEM]',
      'status [ENV]',
      'history ENV [ITEM]',
      'envs',
      'overview',
      'subscribe ENV',
      'unsubscribe ENV',
      'mute ENV DURATION',
      'share RUN',
      'signin ENV MAILBOX',
      'help [COMMAND]',
    ]);
    for (const c of COMMANDS) {
      expect(c.description.en.length).toBeGreaterThan(10);
      expect(c.description.nl.length).toBeGreaterThan(10);
      expect(c.description.nl).not.toBe(c.description.en);
      expect(['read', 'admin']).toContain(c.role);
      expect(typeof handlerOf(c.name)).toBe('function');
    }
    // State-changing, posting and secret-keeping commands are admin-only; reading is open.
    // `overview` reads across every environment a place may see: on-call admins only.
    expect(COMMANDS.filter(c => c.role === 'admin').map(c => c.name)).toEqual([
      'overview',
      'subscribe',
      'unsubscribe',
      'mute',
      'share',
      'signin',
    ]);
  });

  test('help is generated from the registry, in the reader’s language', () => {
    const en = cardTexts(helpCard('en'));
    const nl = cardTexts(helpCard('nl'));
    for (const c of COMMANDS) {
      expect(en).toContain(syntaxOf(c));
      expect(en).toContain(c.description.en);
      expect(nl).toContain(c.description.nl);
    }
    const one = cardTexts(helpCard('en', 'mute'));
    expect(one).toContain('mute ENV DURATION');
    expect(one).not.toContain('check ENV [ITEM]');
  });

  test('locale picks the language: nl-* is Dutch, anything else English', () => {
    expect(langOf('nl-NL')).toBe('nl');
    expect(langOf('nl-be')).toBe('nl');
    expect(langOf('nl')).toBe('nl');
    expect(langOf('en-US')).toBe('en');
    expect(langOf('nld')).toBe('en');
    expect(langOf(undefined)).toBe('en');
  });
});

describe('parsing good input', () => {
  test.each([
    ['check prod', 'check', { environment: 'prod' }],
    ['check prod network', 'check', { environment: 'prod', item: 'network' }],
    ['CHECK Prod NETWORK', 'check', { environment: 'prod', item: 'network' }],
    ['status', 'status', {}],
    ['status staging', 'status', { environment: 'staging' }],
    ['history lab', 'history', { environment: 'lab' }],
    ['envs', 'envs', {}],
    ['subscribe prod', 'subscribe', { environment: 'prod' }],
    ['unsubscribe prod', 'unsubscribe', { environment: 'prod' }],
    ['share prod-20261129101500-ab12', 'share', { run: 'prod-20261129101500-ab12' }],
    [
      'signin prod Support@Example.com',
      'signin',
      { environment: 'prod', mailbox: 'support@example.com' },
    ],
    ['help', 'help', {}],
    ['help mute', 'help', { command: 'mute' }],
    ['/help', 'help', {}],
  ])('%s', (text, name, args) => {
    const r = ok(text);
    expect(r.command.name).toBe(name);
    expect(r.args).toEqual(args);
  });

  test('mute durations', () => {
    expect(ok('mute prod 30m').args.duration).toEqual({ ms: 30 * 60_000, text: '30m' });
    expect(ok('mute prod 4h').args.duration).toEqual({ ms: 4 * 3_600_000, text: '4h' });
    expect(ok('mute prod 2d').args.duration).toEqual({ ms: 2 * 86_400_000, text: '2d' });
    expect(ok('mute prod off').args.duration).toEqual({ ms: 0, text: 'off' });
    expect(parseDuration('31d')).toBeUndefined();
    expect(parseDuration('0m')).toBeUndefined();
    expect(parseDuration('soon')).toBeUndefined();
  });

  test('mentions, markup, entities and odd spaces are stripped', () => {
    expect(plainText('<at>ecebot</at> check&nbsp;prod')).toBe('check prod');
    expect(ok('<at>ecebot</at>\u00a0check \u2003 prod\u200b').args).toEqual({
      environment: 'prod',
    });
    expect(ok('<p><at id="0">ecebot</at> <b>check</b> lab</p>').command.name).toBe('check');
    expect(ok('@ecebot check lab').args).toEqual({ environment: 'lab' });
    // Another person's mention in the text is not an argument.
    expect(ok('check <at>Alex Wilber</at> prod').args).toEqual({ environment: 'prod' });
  });

  test('every item id parses as the ITEM of check', () => {
    for (const id of itemIds()) expect(ok(`check prod ${id}`).args.item).toBe(id);
  });
});

describe('parsing bad input', () => {
  test('empty and blank input', () => {
    expect(err('')).toEqual({ kind: 'empty' });
    expect(err('   \u00a0 ')).toEqual({ kind: 'empty' });
    expect(err('<at>ecebot</at>')).toEqual({ kind: 'empty' });
  });

  test('unknown command, with a suggestion when one is close', () => {
    expect(err('chek prod')).toEqual({
      kind: 'unknown-command',
      word: 'chek',
      suggestion: 'check',
    });
    expect(err('subscirbe prod')).toMatchObject({ suggestion: 'subscribe' });
    expect(err('xyzzy')).toEqual({ kind: 'unknown-command', word: 'xyzzy' });
  });

  test('unknown environment, with a suggestion and the known list', () => {
    expect(err('check prdo')).toEqual({
      kind: 'unknown-environment',
      command: 'check',
      value: 'prdo',
      suggestion: 'prod',
      known: ['prod', 'staging', 'lab'],
    });
    expect(err('history nowhere-near')).toMatchObject({
      kind: 'unknown-environment',
      known: k.environments,
    });
    expect(err('history nowhere-near')).not.toHaveProperty('suggestion');
  });

  test('unknown item and mailbox, with suggestions', () => {
    expect(err('check prod netwrok')).toEqual({
      kind: 'unknown-item',
      command: 'check',
      value: 'netwrok',
      suggestion: 'network',
    });
    expect(err('signin prod suport@example.com')).toMatchObject({
      kind: 'unknown-mailbox',
      environment: 'prod',
      suggestion: 'support@example.com',
    });
  });

  test('missing and extra arguments name the command', () => {
    expect(err('check')).toEqual({ kind: 'missing-arg', command: 'check', arg: 'ENV' });
    expect(err('signin prod')).toEqual({ kind: 'missing-arg', command: 'signin', arg: 'MAILBOX' });
    expect(err('check prod network now')).toEqual({
      kind: 'extra-args',
      command: 'check',
      extra: 'now',
    });
    expect(err('envs please')).toEqual({ kind: 'extra-args', command: 'envs', extra: 'please' });
    expect(err('mute prod 4h 5h')).toMatchObject({ kind: 'extra-args', extra: '5h' });
  });

  test('bad duration and bad run id', () => {
    expect(err('mute prod forever')).toEqual({
      kind: 'bad-duration',
      command: 'mute',
      value: 'forever',
    });
    expect(err('share ../../etc')).toMatchObject({ kind: 'bad-run' });
  });

  test('very long input is refused with its length, before any other check', () => {
    const long = `check prod ${'x'.repeat(MAX_INPUT_CHARS)}`;
    expect(err(long)).toEqual({ kind: 'too-long', length: [...long].length, max: MAX_INPUT_CHARS });
    // Length is counted in characters, not UTF-16 units or bytes.
    const emoji = `check ${'🚀'.repeat(MAX_INPUT_CHARS - 6)}`;
    expect([...emoji].length).toBe(MAX_INPUT_CHARS);
    expect(err(emoji).kind).toBe('unknown-environment');
  });

  test('non-ASCII input is handled, echoed clipped, and never throws', () => {
    expect(err('überprüfen prod')).toEqual({ kind: 'unknown-command', word: 'überprüfen' });
    expect(err('check prød')).toMatchObject({
      kind: 'unknown-environment',
      value: 'prød',
      suggestion: 'prod',
    });
    expect(err('check 生产')).toMatchObject({ kind: 'unknown-environment', value: '生产' });
    const e = err(`check ${'é'.repeat(200)}`);
    expect(e.kind).toBe('unknown-environment');
    expect([...(e as { value: string }).value].length).toBe(60);
    // Lone surrogates and control characters do not break parsing.
    expect(err('check \ud800\u0007').kind).toBe('unknown-environment');
  });

  test('every error becomes an error card in both languages that names the problem', () => {
    const inputs = [
      '',
      'chek prod',
      'check prdo',
      'check prod netwrok',
      'check',
      'envs x',
      'mute prod x',
      'signin prod nobody@example.com',
      'share ../x',
      `check ${'a'.repeat(600)}`,
    ];
    for (const input of inputs) {
      const r = parseCommand(input, k);
      expect(r.ok).toBe(false);
      if (r.ok) continue;
      const en = cardTexts(parseErrorCard('en', r.error)).join('\n');
      const nl = cardTexts(parseErrorCard('nl', r.error)).join('\n');
      expect(en).toContain('ecebot could not do that');
      expect(nl).toContain('ecebot kan dat niet doen');
      if ('suggestion' in r.error && r.error.suggestion) {
        expect(en).toContain(`Did you mean **${r.error.suggestion}**?`);
        expect(nl).toContain(`Bedoelde je **${r.error.suggestion}**?`);
      }
    }
    const usage = cardTexts(parseErrorCard('en', err('check prod network now'))).join('\n');
    expect(usage).toContain('Usage: `check ENV [ITEM]`');
  });

  test('command names in the registry are unique and all parse', () => {
    expect(new Set(COMMAND_NAMES).size).toBe(COMMAND_NAMES.length);
    for (const name of COMMAND_NAMES) {
      const r = parseCommand(name, k);
      // Either it parses (no required args) or it asks for its first argument.
      if (!r.ok) expect(r.error).toMatchObject({ kind: 'missing-arg', command: name });
    }
  });
});
