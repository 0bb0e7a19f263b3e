/**
 * The lab's IMAP4 server on implicit TLS, speaking as outlook.office365.com:993 does
 * (o365-facts.md §1.2). Syntax follows RFC 3501/9051 (tags, quoted strings, literals with
 * LITERAL+ from RFC 7888, SASL-IR from RFC 4959); the words are Exchange Online's. It serves
 * what a mail client needs to log in and look around: CAPABILITY, ID, AUTHENTICATE XOAUTH2,
 * NAMESPACE, LIST/LSUB, SELECT/EXAMINE, STATUS, IDLE, CLOSE/UNSELECT, LOGOUT. No FETCH/SEARCH:
 * the probes stop at "the mailbox opens"; anything else gets EXO's `BAD Command Error. 10`.
 */
import { createServer, type TLSSocket } from 'node:tls';
import { frontEndName, IMAP } from './exo-words';
import { decideMailAuth, parseXoauth2 } from './mail-auth';
import {
  LineChannel,
  LineTooLongError,
  listenTracked,
  MAX_LITERAL,
  type LabState,
  type MailServerOptions,
  type RunningServer,
} from './server-types';

/** A parsed IMAP argument. NIL and numbers stay atoms; literals become strings. */
type Arg =
  | { kind: 'atom'; value: string }
  | { kind: 'string'; value: string }
  | { kind: 'list'; items: Arg[] };

/** One tagged command as received. */
interface Command {
  tag: string;
  name: string;
  args: Arg[];
}

class ImapSyntaxError extends Error {
  /** The command's tag when it could be read, so the BAD can be tagged. */
  tag: string | undefined;
}
class TooLargeError extends Error {}

/** A folder of the simulated mailbox, with its LIST attributes (RFC 6154 special-use). */
interface Folder {
  name: string;
  attrs: string[];
}

/** The folders an Exchange Online mailbox shows over IMAP. */
const FOLDERS: Folder[] = [
  { name: 'Archive', attrs: ['\\HasNoChildren', '\\Archive'] },
  { name: 'Calendar', attrs: ['\\HasNoChildren'] },
  { name: 'Contacts', attrs: ['\\HasNoChildren'] },
  { name: 'Conversation History', attrs: ['\\HasNoChildren'] },
  { name: 'Deleted Items', attrs: ['\\HasNoChildren', '\\Trash'] },
  { name: 'Drafts', attrs: ['\\HasNoChildren', '\\Drafts'] },
  { name: 'INBOX', attrs: ['\\Marked', '\\HasNoChildren'] },
  { name: 'Journal', attrs: ['\\HasNoChildren'] },
  { name: 'Junk Email', attrs: ['\\HasNoChildren', '\\Junk'] },
  { name: 'Notes', attrs: ['\\HasNoChildren'] },
  { name: 'Outbox', attrs: ['\\HasNoChildren'] },
  { name: 'Sent Items', attrs: ['\\HasNoChildren', '\\Sent'] },
];

const SYSTEM_FLAGS = '(\\Seen \\Answered \\Flagged \\Deleted \\Draft $MDNSent)';

/** Commands valid in any state (RFC 3501 §6.1), plus ID (RFC 2971). */
const ANY_STATE = new Set(['CAPABILITY', 'NOOP', 'LOGOUT', 'ID']);
/** Commands of the not-authenticated state (RFC 3501 §6.2). */
const NOT_AUTH = new Set(['AUTHENTICATE', 'LOGIN', 'STARTTLS']);
/** Commands of the authenticated state that this lab implements (RFC 3501 §6.3). */
const AUTHED = new Set([
  'SELECT',
  'EXAMINE',
  'LIST',
  'LSUB',
  'NAMESPACE',
  'STATUS',
  'ENABLE',
  'IDLE',
]);
/** Commands of the selected state that this lab implements (RFC 3501 §6.4, RFC 3691). */
const SELECTED = new Set(['CLOSE', 'UNSELECT']);

/* ------------------------------------------------------------------ parsing */

type Token = '(' | ')' | { kind: 'atom' | 'string'; value: string };

/** ATOM-CHAR of RFC 3501 §9, loosened to allow `[`, `]`, `%`, `*` and `\\` (flags, patterns). */
function isAtomChar(code: number): boolean {
  // Not SP, CTL, DEL, "(", ")" or DQUOTE.
  return code > 0x20 && code !== 0x7f && code !== 0x28 && code !== 0x29 && code !== 0x22;
}

/** Split one text segment into tokens (RFC 3501 §9: atoms, quoted strings, parentheses). */
function tokenize(text: string, out: Token[]): void {
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === ' ') {
      i++;
    } else if (c === '(' || c === ')') {
      out.push(c);
      i++;
    } else if (c === '"') {
      let value = '';
      i++;
      for (;;) {
        if (i >= text.length) throw new ImapSyntaxError('unterminated string');
        const d = text[i]!;
        if (d === '\\') {
          value += text[i + 1] ?? '';
          i += 2;
        } else if (d === '"') {
          i++;
          break;
        } else {
          value += d;
          i++;
        }
      }
      out.push({ kind: 'string', value });
    } else {
      let j = i;
      while (j < text.length && isAtomChar(text.charCodeAt(j))) j++;
      if (j === i) throw new ImapSyntaxError('bad character');
      out.push({ kind: 'atom', value: text.slice(i, j) });
      i = j;
    }
  }
}

/** Build nested lists from the flat token stream. */
function build(tokens: Token[]): Arg[] {
  const stack: Arg[][] = [[]];
  for (const t of tokens) {
    if (t === '(') stack.push([]);
    else if (t === ')') {
      const items = stack.pop();
      if (!items || stack.length === 0) throw new ImapSyntaxError('unbalanced )');
      stack[stack.length - 1]!.push({ kind: 'list', items });
    } else stack[stack.length - 1]!.push(t);
  }
  if (stack.length !== 1) throw new ImapSyntaxError('unbalanced (');
  return stack[0]!;
}

/** Text value of an astring argument (atom, quoted or literal). */
function astring(a: Arg | undefined): string | undefined {
  return a && a.kind !== 'list' ? a.value : undefined;
}

/** Quote a mailbox name unless it is a plain atom (RFC 3501 §4.3). */
function quote(name: string): string {
  return /^[A-Za-z0-9_.\-/]+$/.test(name) ? name : `"${name.replace(/(["\\])/g, '\\$1')}"`;
}

/** LIST pattern (reference + mailbox) as a regular expression: `*` any, `%` no "/" (§6.3.8). */
function patternRegex(reference: string, pattern: string): RegExp {
  const body = (reference + pattern)
    .split('')
    .map(ch =>
      ch === '*' ? '.*' : ch === '%' ? '[^/]*' : ch.replace(/[.+?^${}()|[\]\\]/g, '\\$&'),
    )
    .join('');
  return new RegExp(`^${body}$`, 'i');
}

/* ------------------------------------------------------------------ session */

class ImapSession {
  private state: 'not-authenticated' | 'authenticated' | 'selected' = 'not-authenticated';
  /** Set when the token was valid but may not open the `user=` mailbox (§5 row 1). */
  private notConnected = false;
  private mailbox: string | undefined;
  private exp = 0;
  private closed = false;

  constructor(
    private readonly ch: LineChannel,
    private readonly labState: LabState,
    private readonly frontEnd: string,
    private readonly onTurn?: (what: string) => void,
  ) {}

  async run(): Promise<void> {
    await this.ch.send(IMAP.greeting(this.frontEnd));
    while (!this.closed) {
      let cmd: Command | null;
      try {
        cmd = await this.readCommand();
      } catch (err) {
        if (err instanceof LineTooLongError || err instanceof TooLargeError) {
          await this.ch.send(IMAP.byeTooLong);
          return this.close();
        }
        if (err instanceof ImapSyntaxError) {
          await this.ch.send(`${err.tag ?? '*'} ${IMAP.badArgument}`);
          continue;
        }
        throw err;
      }
      if (cmd === null) return;
      if (cmd.name === '') continue;
      await this.dispatch(cmd);
    }
  }

  private close(): void {
    this.closed = true;
    this.ch.end();
  }

  /**
   * Read one command: a line, and for every trailing `{n}` / `{n+}` the literal and the rest
   * of the command (RFC 3501 §4.3, RFC 7888 LITERAL+). Synchronising literals get a `+`.
   */
  private async readCommand(): Promise<Command | null> {
    const first = await this.ch.readLine();
    if (first === null) return null;
    try {
      return await this.parseCommand(first);
    } catch (err) {
      if (err instanceof ImapSyntaxError) err.tag = /^[A-Za-z0-9.\-_]+(?= )/.exec(first)?.[0];
      throw err;
    }
  }

  private async parseCommand(first: string): Promise<Command | null> {
    const tokens: Token[] = [];
    let line = first;
    let total = line.length;
    for (;;) {
      const m = /\{(\d+)(\+?)\}$/.exec(line);
      if (!m) {
        tokenize(line, tokens);
        break;
      }
      tokenize(line.slice(0, m.index), tokens);
      const n = Number(m[1]);
      total += n;
      if (n > MAX_LITERAL || total > MAX_LITERAL * 2) throw new TooLargeError();
      if (!m[2]) {
        this.onTurn?.('+');
        await this.ch.send(IMAP.literalContinue);
      }
      const lit = await this.ch.readBytes(n);
      if (lit === null) return null;
      tokens.push({ kind: 'string', value: lit.toString('utf8') });
      const next = await this.ch.readLine();
      if (next === null) return null;
      line = next;
      total += line.length;
    }
    if (tokens.length === 0) return { tag: '', name: '', args: [] };
    const args = build(tokens);
    const [tag, name, ...rest] = args;
    if (!tag || tag.kind !== 'atom' || tag.value === '+' || tag.value === '*')
      throw new ImapSyntaxError('bad tag');
    if (!name || name.kind !== 'atom') {
      // A tag alone: answer it like any unknown command.
      return { tag: tag.value, name: '?', args: [] };
    }
    return { tag: tag.value, name: name.value.toUpperCase(), args: rest };
  }

  /** Route a command by state (RFC 3501 §3), applying EXO's session rules first. */
  private async dispatch(cmd: Command): Promise<void> {
    const { tag, name } = cmd;
    this.onTurn?.(name);
    if (this.state !== 'not-authenticated' && !this.notConnected && this.tokenExpired()) {
      // A session outliving its token is ended by the server (o365-facts.md §5 row 16).
      await this.ch.send(IMAP.byeTokenExpired);
      return this.close();
    }
    if (ANY_STATE.has(name)) return this.anyState(cmd);
    if (NOT_AUTH.has(name)) {
      if (this.state !== 'not-authenticated') return this.ch.send(`${tag} ${IMAP.badState}`);
      if (name === 'AUTHENTICATE') return this.authenticate(cmd);
      if (name === 'LOGIN') return this.ch.send(`${tag} ${IMAP.loginFailed}`);
      // STARTTLS on an implicit-TLS port: EXO does not offer it on 993.
      return this.ch.send(`${tag} ${IMAP.badCommand}`);
    }
    if (AUTHED.has(name) || SELECTED.has(name)) {
      if (this.state === 'not-authenticated') return this.ch.send(`${tag} ${IMAP.badState}`);
      if (this.notConnected) return this.refuseNotConnected(tag);
      if (SELECTED.has(name)) return this.leaveFolder(cmd);
      return this.authenticated(cmd);
    }
    return this.ch.send(`${tag} ${IMAP.badCommand}`);
  }

  private tokenExpired(): boolean {
    return this.exp > 0 && Date.now() / 1000 >= this.exp;
  }

  private async anyState(cmd: Command): Promise<void> {
    const { tag, name } = cmd;
    switch (name) {
      case 'CAPABILITY':
        return this.capability(tag);
      case 'NOOP':
        return this.ch.send(`${tag} ${IMAP.completed('NOOP')}`);
      case 'ID':
        // RFC 2971 §3.1: the server may answer NIL; EXO's own ID fields are not on record.
        return this.ch.send('* ID NIL', `${tag} ${IMAP.completed('ID')}`);
      default:
        return this.logout(tag);
    }
  }

  private capability(tag: string): Promise<void> {
    const caps =
      this.state === 'not-authenticated' ? IMAP.capabilityPreAuth : IMAP.capabilityPostAuth;
    return this.ch.send(`* CAPABILITY ${caps}`, `${tag} ${IMAP.completed('CAPABILITY')}`);
  }

  private async logout(tag: string): Promise<void> {
    await this.ch.send(IMAP.byeLogout, `${tag} ${IMAP.completed('LOGOUT')}`);
    this.close();
  }

  /**
   * AUTHENTICATE (RFC 3501 §6.2.2): XOAUTH2 with SASL-IR (RFC 4959) or after a `+`
   * continuation; `*` cancels. PLAIN is advertised but basic auth is off, so it always fails.
   */
  private async authenticate(cmd: Command): Promise<void> {
    const { tag, args } = cmd;
    const mech = astring(args[0])?.toUpperCase();
    if (!mech || args.length > 2) return this.ch.send(`${tag} ${IMAP.badArgument}`);
    let response = astring(args[1]);
    if (response === undefined) {
      this.onTurn?.('+');
      await this.ch.send('+ ');
      const line = await this.ch.readLine();
      if (line === null) return this.close();
      response = line.trim();
    }
    if (response === '*') return this.ch.send(`${tag} ${IMAP.authCanceled}`);
    if (mech !== 'XOAUTH2') return this.ch.send(`${tag} ${IMAP.authFailed}`);
    return this.finishXoauth2(tag, response === '=' ? '' : response);
  }

  /** Decide the XOAUTH2 login and answer as EXO does for each outcome (§1.2 failure table). */
  private async finishXoauth2(tag: string, blob: string): Promise<void> {
    const sasl = parseXoauth2(blob);
    if (!sasl) return this.ch.send(`${tag} ${IMAP.authFailed}`);
    const outcome = decideMailAuth(this.labState, 'imap', sasl.user, sasl.token);
    if (outcome.ok) {
      this.state = 'authenticated';
      this.mailbox = outcome.mailbox;
      this.exp = outcome.exp;
      return this.ch.send(`${tag} ${IMAP.authOk}`);
    }
    if (outcome.reason === 'not-allowed') {
      // EXO accepts the token, then refuses the first mailbox command (§5 row 1).
      this.state = 'authenticated';
      this.notConnected = true;
      return this.ch.send(`${tag} ${IMAP.authOk}`);
    }
    return this.ch.send(`${tag} ${IMAP.authFailed}`);
  }

  private async refuseNotConnected(tag: string): Promise<void> {
    await this.ch.send(`${tag} ${IMAP.notConnected}`, IMAP.byeNotConnected);
    this.close();
  }

  private authenticated(cmd: Command): Promise<void> {
    switch (cmd.name) {
      case 'SELECT':
      case 'EXAMINE':
        return this.select(cmd);
      case 'LIST':
      case 'LSUB':
        return this.list(cmd);
      case 'NAMESPACE':
        // RFC 2342: one personal namespace, "/" as the hierarchy delimiter.
        return this.ch.send(
          '* NAMESPACE (("" "/")) NIL NIL',
          `${cmd.tag} ${IMAP.completed('NAMESPACE')}`,
        );
      case 'STATUS':
        return this.status(cmd);
      case 'ENABLE':
        // EXO advertises no ENABLE-able extension, so nothing is enabled (RFC 5161 §3.1).
        return this.ch.send('* ENABLED', `${cmd.tag} ${IMAP.completed('ENABLE')}`);
      default:
        return this.idle(cmd.tag);
    }
  }

  private folder(name: string | undefined): Folder | undefined {
    if (name === undefined) return undefined;
    return FOLDERS.find(f => f.name.toLowerCase() === name.toLowerCase());
  }

  /** Messages in a folder: the tenant's count for INBOX, the others are empty. */
  private count(f: Folder): number {
    if (f.name !== 'INBOX') return 0;
    const mbx = this.labState.tenant.mailboxes.find(m => m.address === this.mailbox);
    return mbx?.messages ?? 0;
  }

  private uidValidity(f: Folder): number {
    return 14 + FOLDERS.indexOf(f);
  }

  /** SELECT / EXAMINE (RFC 3501 §6.3.1–2) with the untagged data EXO sends. */
  private async select(cmd: Command): Promise<void> {
    const { tag, name, args } = cmd;
    const f = this.folder(astring(args[0]));
    if (!f) {
      this.state = 'authenticated';
      return this.ch.send(`${tag} ${IMAP.noSuchFolder}`);
    }
    const n = this.count(f);
    this.state = 'selected';
    const mode = name === 'SELECT' ? '[READ-WRITE]' : '[READ-ONLY]';
    return this.ch.send(
      `* ${n} EXISTS`,
      '* 0 RECENT',
      `* FLAGS ${SYSTEM_FLAGS}`,
      `* OK [PERMANENTFLAGS ${SYSTEM_FLAGS}] Permanent flags`,
      `* OK [UIDVALIDITY ${this.uidValidity(f)}] UIDVALIDITY value`,
      `* OK [UIDNEXT ${n + 1}] The next unique identifier value`,
      `${tag} OK ${mode} ${name} completed.`,
    );
  }

  /** LIST / LSUB (RFC 3501 §6.3.8–9); `LIST "" ""` asks for the delimiter only. */
  private list(cmd: Command): Promise<void> {
    const { tag, name, args } = cmd;
    const reference = astring(args[0]);
    const pattern = astring(args[1]);
    // EXO is not LIST-EXTENDED (RFC 5258): selection or RETURN options are refused.
    if (reference === undefined || pattern === undefined || args.length !== 2)
      return this.ch.send(`${tag} ${IMAP.badArgument}`);
    const done = `${tag} ${IMAP.completed(name)}`;
    if (pattern === '') return this.ch.send(`* ${name} (\\Noselect) "/" ""`, done);
    const re = patternRegex(reference, pattern);
    const lines = FOLDERS.filter(f => re.test(f.name)).map(
      f => `* ${name} (${f.attrs.join(' ')}) "/" ${quote(f.name)}`,
    );
    return this.ch.send(...lines, done);
  }

  /** STATUS (RFC 3501 §6.3.10) for the items asked. */
  private status(cmd: Command): Promise<void> {
    const { tag, args } = cmd;
    const f = this.folder(astring(args[0]));
    const items = args[1];
    if (!items || items.kind !== 'list') return this.ch.send(`${tag} ${IMAP.badArgument}`);
    if (!f) return this.ch.send(`${tag} ${IMAP.noSuchFolder}`);
    const n = this.count(f);
    const values: Record<string, number> = {
      MESSAGES: n,
      RECENT: 0,
      UIDNEXT: n + 1,
      UIDVALIDITY: this.uidValidity(f),
      UNSEEN: 0,
    };
    const out: string[] = [];
    for (const item of items.items) {
      const key = astring(item)?.toUpperCase();
      if (!key || !(key in values)) return this.ch.send(`${tag} ${IMAP.badArgument}`);
      out.push(`${key} ${values[key]}`);
    }
    return this.ch.send(
      `* STATUS ${quote(f.name)} (${out.join(' ')})`,
      `${tag} ${IMAP.completed('STATUS')}`,
    );
  }

  /** IDLE (RFC 2177): wait for DONE; no mailbox changes ever happen in the lab. */
  private async idle(tag: string): Promise<void> {
    await this.ch.send(IMAP.idleContinue);
    const line = await this.ch.readLine();
    if (line === null) return this.close();
    if (line.trim().toUpperCase() !== 'DONE') return this.ch.send(`${tag} ${IMAP.badArgument}`);
    return this.ch.send(`${tag} ${IMAP.completed('IDLE')}`);
  }

  /** CLOSE / UNSELECT (RFC 3501 §6.4.2, RFC 3691): back to the authenticated state. */
  private leaveFolder(cmd: Command): Promise<void> {
    if (this.state !== 'selected') return this.ch.send(`${cmd.tag} ${IMAP.badState}`);
    this.state = 'authenticated';
    return this.ch.send(`${cmd.tag} ${IMAP.completed(cmd.name)}`);
  }
}

/** Options of the lab's IMAP server. */
export interface ImapServerOptions extends MailServerOptions {
  /**
   * Told of every turn a client waits for: the verb of each tagged command, and `+` for each
   * continuation the server asks for (AUTHENTICATE without an initial response, a synchronising
   * literal). Tests count a client's round trips with it.
   */
  onTurn?: (what: string) => void;
}

/** Start the lab's IMAP server (implicit TLS, like port 993). */
export function startImapServer(opts: ImapServerOptions): Promise<RunningServer> {
  const frontEnd = opts.frontEnd ?? frontEndName();
  const server = createServer({ key: opts.tls.keyPem, cert: opts.tls.certPem });
  const live = new Set<TLSSocket>();
  server.on('secureConnection', (socket: TLSSocket) => {
    live.add(socket);
    socket.on('close', () => live.delete(socket));
    const session = new ImapSession(
      new LineChannel(socket, opts.delayMs),
      opts.state,
      frontEnd,
      opts.onTurn,
    );
    session.run().catch(() => socket.destroy());
  });
  // A client that rejects our certificate (the point of some tests) is not a server error.
  server.on('tlsClientError', () => undefined);
  return listenTracked(server, opts.port, () => live);
}
