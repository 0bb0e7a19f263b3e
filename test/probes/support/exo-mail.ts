/**
 * Scripted IMAP and POP3 servers that answer with Exchange Online's exact lines
 * (o365-facts.md §1.2 and §1.3). Their behaviour follows from a small model, not from a
 * scenario flag: which identity each token belongs to, which identities may open which
 * mailbox, and which tokens expire during the session.
 */
import { startLineServer, type LineConn, type LineServer } from './line-server';

/** The identity and mailbox model the fakes judge XOAUTH2 logins against. */
export interface ExoModel {
  /** Access token → the identity it was issued to. */
  tokens: Record<string, string>;
  /** Mailbox → other identities with Full Access (the owner always has access). */
  access?: Record<string, string[]>;
  /** Tokens that expire during the session: the first command after login gets BYE. */
  expiring?: string[];
  /** Folder names LIST returns. */
  folders?: string[];
  /** Messages in INBOX (IMAP EXISTS, POP3 STAT). */
  messages?: number;
}

export interface ExoServerOptions {
  tls: { key: string; cert: string };
  model: ExoModel;
  /** Replace the pre-authentication CAPABILITY (IMAP) or SASL line (POP3). */
  capability?: string;
}

/** base64 of the UTF-16LE front-end name, as Exchange Online puts in its greeting (§1.2). */
const FRONT_END = Buffer.from('FR3P281CA0157.DEUP281.PROD.OUTLOOK.COM', 'utf16le').toString(
  'base64',
);

export const IMAP_CAPABILITY =
  'IMAP4 IMAP4rev1 AUTH=PLAIN AUTH=XOAUTH2 SASL-IR UIDPLUS ID UNSELECT CHILDREN IDLE NAMESPACE LITERAL+';
const IMAP_CAPABILITY_AUTHED =
  'IMAP4 IMAP4rev1 AUTH=PLAIN AUTH=XOAUTH2 SASL-IR UIDPLUS MOVE ID UNSELECT CLIENTACCESSRULES CLIENTNETWORKPRESENCELOCATION BACKENDAUTHENTICATE CHILDREN IDLE NAMESPACE LITERAL+';

/** What an XOAUTH2 blob carries. */
interface Sasl {
  user: string;
  token: string;
}

function decodeXoauth2(blob: string): Sasl | undefined {
  const text = Buffer.from(blob, 'base64').toString('utf8');
  // eslint-disable-next-line no-control-regex -- XOAUTH2 separates fields with 0x01 (o365-facts.md §1.5)
  const m = /^user=([^\x01]*)\x01auth=Bearer ([^\x01]*)\x01\x01$/.exec(text);
  return m ? { user: m[1]!, token: m[2]! } : undefined;
}

/** Whether the token's identity may open the mailbox named in user=. */
function mayOpen(model: ExoModel, sasl: Sasl): boolean {
  const who = model.tokens[sasl.token];
  if (!who) return false;
  return (
    who.toLowerCase() === sasl.user.toLowerCase() || !!model.access?.[sasl.user]?.includes(who)
  );
}

/** Start a fake outlook.office365.com:993. */
export function startExoImap(opts: ExoServerOptions): Promise<LineServer> {
  return startLineServer({ tls: opts.tls }, conn => imapSession(conn, opts));
}

async function imapSession(conn: LineConn, opts: ExoServerOptions): Promise<void> {
  const { model } = opts;
  let sasl: Sasl | undefined;
  conn.write(`* OK The Microsoft Exchange IMAP4 service is ready. [${FRONT_END}]`);
  for (;;) {
    const line = await conn.next();
    if (line === null) return;
    const m = /^(\S+) (\S+)(?: (.*))?$/.exec(line);
    if (!m) {
      conn.write('* BAD Command Error. 10');
      continue;
    }
    const [, tag, verbRaw, args = ''] = m;
    const verb = verbRaw!.toUpperCase();
    if (sasl && verb !== 'LOGOUT') {
      if (model.expiring?.includes(sasl.token)) {
        conn.write('* BYE Session invalidated - AccessTokenExpired');
        conn.end();
        return;
      }
      if (verb !== 'CAPABILITY' && verb !== 'ID' && !mayOpen(model, sasl)) {
        // §1.2: the token is valid, but its identity cannot open the mailbox in user=.
        conn.write(`${tag} BAD User is authenticated but not connected.`);
        conn.write('* BYE Connection closed. 14');
        conn.end();
        return;
      }
    }
    switch (verb) {
      case 'CAPABILITY':
        conn.write(
          `* CAPABILITY ${sasl ? IMAP_CAPABILITY_AUTHED : (opts.capability ?? IMAP_CAPABILITY)}`,
        );
        conn.write(`${tag} OK CAPABILITY completed.`);
        break;
      case 'ID':
        conn.write('* ID NIL');
        conn.write(`${tag} OK ID completed.`);
        break;
      case 'AUTHENTICATE': {
        const [mech, initial] = args.split(' ');
        if (mech?.toUpperCase() !== 'XOAUTH2') {
          conn.write(`${tag} NO AUTHENTICATE failed.`);
          break;
        }
        let blob = initial;
        if (blob === undefined) {
          conn.write('+ ');
          blob = (await conn.next()) ?? '';
        }
        const decoded = decodeXoauth2(blob);
        if (decoded && model.tokens[decoded.token]) {
          sasl = decoded;
          conn.write(`${tag} OK AUTHENTICATE completed.`);
        } else {
          conn.write(`${tag} NO AUTHENTICATE failed.`);
        }
        break;
      }
      case 'NAMESPACE':
        conn.write('* NAMESPACE (("" "/")) NIL NIL');
        conn.write(`${tag} OK NAMESPACE completed.`);
        break;
      case 'LIST':
        for (const f of model.folders ?? ['INBOX']) {
          conn.write(`* LIST (\\HasNoChildren) "/" ${f}`);
        }
        conn.write(`${tag} OK LIST completed.`);
        break;
      case 'SELECT':
      case 'EXAMINE': {
        const n = model.messages ?? 0;
        conn.write(`* ${n} EXISTS`);
        conn.write('* 0 RECENT');
        conn.write('* FLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft $MDNSent)');
        conn.write('* OK [PERMANENTFLAGS ()] Permanent flags');
        conn.write('* OK [UIDVALIDITY 14] UIDVALIDITY value');
        conn.write(`* OK [UIDNEXT ${n + 1}] The next unique identifier value`);
        conn.write(`${tag} OK [READ-ONLY] ${verb} completed.`);
        break;
      }
      case 'LOGOUT':
        conn.write('* BYE Microsoft Exchange Server 2016 IMAP4 server signing off.');
        conn.write(`${tag} OK LOGOUT completed.`);
        conn.end();
        return;
      default:
        conn.write(`${tag} BAD Command Argument Error. 12`);
    }
  }
}

/** Start a fake outlook.office365.com:995. */
export function startExoPop3(opts: ExoServerOptions): Promise<LineServer> {
  return startLineServer({ tls: opts.tls }, conn => pop3Session(conn, opts));
}

async function pop3Session(conn: LineConn, opts: ExoServerOptions): Promise<void> {
  const { model } = opts;
  let sasl: Sasl | undefined;
  conn.write(`+OK The Microsoft Exchange POP3 service is ready. [${FRONT_END}]`);
  for (;;) {
    const line = await conn.next();
    if (line === null) return;
    const [verbRaw = '', ...rest] = line.split(' ');
    const verb = verbRaw.toUpperCase();
    switch (verb) {
      case 'CAPA':
        conn.write('+OK');
        conn.write('TOP');
        conn.write('UIDL');
        conn.write(opts.capability ?? 'SASL PLAIN XOAUTH2');
        conn.write('USER');
        conn.write('.');
        break;
      case 'AUTH': {
        if (rest[0]?.toUpperCase() !== 'XOAUTH2') {
          conn.write('-ERR Protocol error. 14');
          break;
        }
        if (rest.length > 1) {
          // §1.3: Exchange Online does not take the blob on the AUTH line.
          conn.write('-ERR Protocol error. 14');
          break;
        }
        conn.write('+ ');
        const decoded = decodeXoauth2((await conn.next()) ?? '');
        if (decoded && mayOpen(model, decoded)) {
          sasl = decoded;
          conn.write('+OK User successfully authenticated.');
        } else {
          conn.write('-ERR Authentication failure: unknown user name or bad password.');
        }
        break;
      }
      case 'STAT': {
        if (!sasl) {
          conn.write('-ERR Command is not valid in this state.');
          break;
        }
        const n = model.messages ?? 0;
        conn.write(`+OK ${n} ${n * 2048}`);
        break;
      }
      case 'QUIT':
        conn.write('+OK Microsoft Exchange Server 2016 POP3 server signing off.');
        conn.end();
        return;
      default:
        conn.write('-ERR Protocol error. 14');
    }
  }
}
