/**
 * Every reply the lab's mail servers can send (src/lab/exo-words.ts, the one place their words
 * live) reads as a code the registry knows, and each refusal reads as the code its source says:
 * the lab is a witness the probes and rules are tested against, so a lab word that ecebot could
 * not place, or placed as a success, would test nothing.
 */
import { CODE_TABLE } from '../../src/knowledge/codes';
import { IMAP, POP3, SMTP } from '../../src/lab/exo-words';
import {
  imapCode,
  pop3Code,
  smtpCode,
  type Pop3Phase,
  type SmtpCommand,
} from '../../src/probes/mail-codes';

const DIAG = '[SN4PR0201CA0068.NAMPRD04.PROD.OUTLOOK.COM 2026-12-03T06:00:00.000Z 08DBB276B7E699C]';

/** Every line a word table can produce: strings as they are, functions called with stand-ins. */
function lines(table: Record<string, unknown>): [string, string][] {
  return Object.entries(table).flatMap(([name, v]): [string, string][] => {
    if (typeof v === 'string') return [[name, v]];
    if (Array.isArray(v)) return v.map((l, i) => [`${name}[${i}]`, String(l)]);
    if (typeof v === 'function') {
      const args = Array.from({ length: v.length }, () => 'x@example.com');
      return [[name, String((v as (...a: string[]) => unknown)(...args))]];
    }
    return [];
  });
}

const SMTP_COMMANDS: SmtpCommand[] = [
  'CONNECT',
  'EHLO',
  'STARTTLS',
  'AUTH',
  'MAIL',
  'RCPT',
  'DATA',
  'QUIT',
];
const POP3_PHASES: Pop3Phase[] = ['greeting', 'capa', 'auth-start', 'auth', 'stat', 'quit'];
const IMAP_COMMANDS = ['GREETING', 'AUTHENTICATE', 'NAMESPACE', 'LIST', 'EXAMINE', 'LOGOUT'];

describe('every code the lab mail servers can produce is in the registry', () => {
  test.each(lines(SMTP))('SMTP %s', (_name, line) => {
    for (const c of SMTP_COMMANDS) expect(CODE_TABLE).toHaveProperty(smtpCode(c, line));
  });
  test.each(lines(POP3))('POP3 %s', (_name, line) => {
    for (const p of POP3_PHASES) expect(CODE_TABLE).toHaveProperty(pop3Code(p, line));
  });
  test.each(lines(IMAP))('IMAP %s', (_name, line) => {
    // Tagged words are kept without their tag in the table; the servers put one in front.
    const wire = /^(OK|NO|BAD)\b/.test(line) ? `A01 ${line}` : line;
    for (const c of IMAP_COMMANDS) expect(CODE_TABLE).toHaveProperty(imapCode(c, wire));
  });
});

describe("the lab's refusals read as the code their source gives", () => {
  test.each([
    // o365-facts.md §1.4 and the sources named there.
    ['AUTH', SMTP.authFailed(DIAG), 'AUTH_FAILED'],
    ['AUTH', SMTP.authDisabledTenant(DIAG), 'SMTP_AUTH_DISABLED_TENANT'],
    ['AUTH', SMTP.authDisabledMailbox(DIAG), 'SMTP_AUTH_DISABLED'],
    ['AUTH', SMTP.basicDisabled(DIAG), 'SMTP_BASIC_AUTH_DISABLED'],
    ['AUTH', SMTP.unrecognizedAuth(DIAG), 'XOAUTH2_NOT_OFFERED'],
    ['MAIL', SMTP.notAuthenticated(DIAG), 'SMTP_NOT_AUTHENTICATED'],
    ['DATA', SMTP.sendAsDenied('svc@example.com', 'sales@example.com', 'X'), 'SEND_AS_DENIED'],
  ] as const)('SMTP %s answered %j is %s', (command, line, code) => {
    expect(smtpCode(command, line)).toBe(code);
  });

  test.each([
    ['AUTHENTICATE', `A01 ${IMAP.authFailed}`, 'AUTH_FAILED'],
    ['NAMESPACE', `A02 ${IMAP.notConnected}`, 'AUTHENTICATED_NOT_CONNECTED'],
    ['LIST', IMAP.byeTokenExpired, 'TOKEN_EXPIRED_SESSION'],
  ])('IMAP %s answered %j is %s', (command, line, code) => {
    expect(imapCode(command, line)).toBe(code);
  });

  test('no refusal of the lab reads as a success', () => {
    const refusals = [
      ...lines(SMTP)
        .filter(([, l]) => /^[45]\d\d /.test(l))
        .map(([, l]) => smtpCode('AUTH', l)),
      ...lines(POP3)
        .filter(([, l]) => /^-ERR/.test(l))
        .map(([, l]) => pop3Code('auth', l)),
      ...lines(IMAP)
        .filter(([, l]) => /^(NO|BAD)\b/.test(l))
        .map(([, l]) => imapCode('AUTHENTICATE', `A01 ${l}`)),
    ];
    expect(refusals.length).toBeGreaterThan(10);
    expect(refusals.filter(c => c === 'OK')).toEqual([]);
  });
});
