/**
 * The Dutch remediation table (src/knowledge/codes-nl.ts) against the English one in CODE_TABLE:
 * every code is translated (no Dutch text equals its English text), and what the English entry
 * fills in for the environment (mailbox, account, server, host, port, tenant, app, scopes,
 * placeholders) is in the Dutch one too, so a Dutch reader is told about the same objects.
 * `remediationFor` carries both languages, and a Dutch fix is given only beside an English one.
 */
import { facts, SUPPORT, SVC } from '../checklist/fixtures';
import {
  CODE_TABLE,
  codeNames,
  type Advice,
  type RemediationContext,
} from '../../src/knowledge/codes';
import { REMEDY_NL, type AdviceNl } from '../../src/knowledge/codes-nl';
import { remediationFor } from '../../src/knowledge/remediation';
import { findingSummary, remediationFix, remediationText } from '../../src/i18n';

const env = facts({ ece: { ...facts().ece, externalUrl: 'https://ece.example.com/system' } });

/** A context with every value set, each distinct so that one cannot stand in for another. */
const full: RemediationContext = {
  env,
  mailbox: SUPPORT,
  account: SVC,
  vantage: 'services-7',
  host: 'imap.example.net',
  port: 1993,
  days: 9,
  scopes: ['SMTP.Send', 'IMAP.AccessAsUser.All'],
};
/** A context with nothing but the environment: entries fall back to placeholders. */
const bare: RemediationContext = { env };
/** The mailbox's own token (account = mailbox): entries that branch on it say something else. */
const own: RemediationContext = { ...full, account: SUPPORT };
/** Entra answered a number and words of its own (unknown AADSTS numbers keep both). */
const ENTRA_WORDS = 'Tenant q7 unknown';
const answered: RemediationContext = { ...full, aadsts: 7654321, server: ENTRA_WORDS };

/** The values the English entry may name; each must then be in the Dutch one. */
const VALUES = [
  SUPPORT,
  SVC,
  'services-7',
  'imap.example.net',
  '1993',
  'ece.example.com',
  env.tenantId,
  env.app.clientId,
  env.name,
  'SMTP.Send',
  'IMAP.AccessAsUser.All',
  // Commands and cmdlets are quoted the same in both languages.
  'Set-TransportConfig',
  'Remove-MailboxPermission',
  'Resolve-DnsName',
  // ecebot's read app's permissions (src/knowledge/permissions.ts).
  'Application.Read.All',
  'Directory.Read.All',
  'User.Read.All',
  'AuditLog.Read.All',
  'Exchange.ManageAsApp',
  'Global Reader',
  'Exchange Administrator',
  'Entra ID P1',
  // What Entra answered.
  '7654321',
  ENTRA_WORDS,
  `signin ${env.name}`,
];

const en = (code: (typeof CODES)[number], ctx: RemediationContext): Advice =>
  CODE_TABLE[code].remediation(ctx);
const nl = (code: (typeof CODES)[number], ctx: RemediationContext): AdviceNl =>
  REMEDY_NL[code](ctx);

const CODES = codeNames();

/** Labels of Microsoft's portals, which Dutch texts and fixes quote as the reader sees them. */
const LABELS = [
  'Users and groups',
  'Licenses and apps',
  'Certificates & secrets',
  // Enterprise applications > Properties (AADSTS7000112: the application is disabled).
  'Enabled for users to sign in',
];
/** A Dutch sentence without the portal labels it quotes. */
const withoutLabels = (s: string): string => LABELS.reduce((t, l) => t.split(l).join(''), s);

/** `<mailbox>`-style placeholders, counted. */
const placeholders = (s: string) => (s.match(/<[^<>]+>/g) ?? []).length;

describe('Dutch remediation', () => {
  test('the Dutch table has exactly the codes of CODE_TABLE', () => {
    expect(Object.keys(REMEDY_NL).sort()).toEqual([...CODES].sort());
  });

  test.each(CODES)('%s: translated, naming the same things', code => {
    for (const ctx of [full, bare, own, answered]) {
      const e = en(code, ctx);
      const d = nl(code, ctx);
      expect(d.text.length).toBeGreaterThan(10);
      expect(d.text).not.toBe(e.text);
      for (const v of VALUES)
        if (e.text.includes(v))
          expect([v, d.text]).toEqual([v, d.text.includes(v) ? d.text : `missing ${v}`]);
      expect(placeholders(d.text)).toBe(placeholders(e.text));
      if (d.fix !== undefined) {
        // A Dutch fix translates the prose of an English one; it never adds a fix.
        expect(e.fix).toBeDefined();
        expect(d.fix).not.toBe(e.fix);
        for (const v of VALUES) if (e.fix!.includes(v)) expect(d.fix).toContain(v);
        expect(placeholders(d.fix)).toBe(placeholders(e.fix!));
      }
    }
  });

  test.each(CODES)('%s: the Dutch sentence is not English prose', code => {
    // Words of English prose that no Dutch sentence needs (UI labels are quoted without them).
    const english = /\b(the|and|are|not|with|for|its|your|must|this|that|which)\b/i;
    for (const ctx of [full, own, answered]) {
      const d = nl(code, ctx);
      // Portal labels stay Microsoft's English ones (o365-facts.md §3.1–3.2).
      expect([code, withoutLabels(d.text).match(english)?.[0]]).toEqual([code, undefined]);
      if (d.fix) {
        expect([code, withoutLabels(d.fix).match(english)?.[0]]).toEqual([code, undefined]);
      }
    }
  });

  test('remediationFor carries the Dutch text, and a Dutch fix only where one was written', () => {
    for (const code of CODES) {
      const r = remediationFor(code, full);
      expect(r.textNl).toBe(nl(code, full).text);
      expect(remediationText(r, 'nl')).toBe(r.textNl);
      expect(remediationText(r, 'en')).toBe(r.text);
      expect(remediationFix(r, 'en')).toBe(r.fix);
      expect(remediationFix(r, 'nl')).toBe(nl(code, full).fix ?? r.fix);
    }
  });

  test('a remediation or finding stored without Dutch falls back to English', () => {
    const old = {
      code: 'EXO_IMAP_DISABLED' as const,
      text: 'IMAP is disabled.',
      fix: 'x',
      links: [],
    };
    expect(remediationText(old, 'nl')).toBe('IMAP is disabled.');
    expect(remediationFix(old, 'nl')).toBe('x');
    expect(findingSummary({ summary: 'IMAP disabled' }, 'nl')).toBe('IMAP disabled');
    expect(findingSummary({ summary: 'a', summaryNl: 'b' }, 'nl')).toBe('b');
    expect(findingSummary({ summary: 'a', summaryNl: 'b' }, 'en')).toBe('a');
  });
});
