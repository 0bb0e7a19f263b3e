/**
 * Turning observations into evidence a person reads: one line ("993 refused after 1 ms"), the
 * server's own words, and the redacted transcript (`C: …` / `S: …`) for the Details view
 * (anchors.md C, lesson 3: "AUTHENTICATE failed" with nothing else is the top complaint).
 */
import { CODE_TABLE, type Code } from '../knowledge/codes';
import type { Observation, Step, Vantage } from '../model';
import type { Evidence } from '../model';

/** Vantage of evidence that comes from the inventory rather than from a probe. */
export const INVENTORY: Vantage = 'inventory';

/** Milliseconds as a person reads them. */
export function ms(durationMs: number): string {
  return `${Math.round(durationMs)} ms`;
}

/** What a failure code looks like in a sentence: "993 *refused*", "login… *timed out*". */
export function outcomePhrase(code: Code): string {
  return CODE_TABLE[code].phrase;
}

/** Protocol transcript lines from recorded steps (already redacted by the probe). */
export function transcriptOf(steps: Step[]): string[] {
  const lines: string[] = [];
  for (const s of steps) {
    if (s.sent !== undefined) lines.push(`C: ${s.sent}`);
    for (const r of s.received ?? []) lines.push(`S: ${r}`);
  }
  return lines;
}

function portOf(target: string): string {
  const m = /:(\d+)$/.exec(target);
  return m?.[1] ?? target;
}

function certNote(validTo: string | undefined): string {
  return validTo ? `, certificate valid until ${validTo}` : '';
}

/** One line for an observation. */
export function describe(o: Observation): string {
  const took = ms(o.durationMs);
  if (o.code === 'CHECK_CRASHED') return `the ${o.kind} probe crashed after ${took}`;
  switch (o.kind) {
    case 'dns':
      return o.ok
        ? `${o.host} resolves to ${o.addresses.join(', ') || 'no address'} in ${took}`
        : `${o.host} ${outcomePhrase(o.code)} after ${took}`;
    case 'tcp':
      return o.ok
        ? `${o.port} connected in ${took}`
        : `${o.port} ${outcomePhrase(o.code)} after ${took}`;
    case 'tls': {
      const via = o.proxy ? ` via proxy ${o.proxy}` : '';
      // The negotiated version and cipher, also on a refusal that came after the handshake.
      const negotiated = [o.protocol, o.cipher].filter(Boolean).join(' ');
      return o.ok
        ? `${o.port} ${o.starttls ? 'STARTTLS' : 'TLS'}${negotiated ? ` ${negotiated}` : ''}${via} ok in ${took}${certNote(o.cert?.validTo)}`
        : `${o.port} ${outcomePhrase(o.code)}${negotiated ? ` (${negotiated})` : ''}${via} after ${took}`;
    }
    case 'https':
      return o.ok
        ? `HTTP ${o.status ?? '?'} in ${took}${certNote(o.cert?.validTo)}`
        : `${portOf(o.target)} ${outcomePhrase(o.code)}${o.status ? ` (HTTP ${o.status})` : ''} after ${took}`;
    case 'imap':
    case 'pop3':
    case 'smtp': {
      const proto = o.kind === 'pop3' ? 'POP3' : o.kind.toUpperCase();
      if (!o.ok) return `${proto} ${o.stage} failed (${o.code}) after ${took}`;
      const f = o.mailboxFacts;
      const facts =
        f?.folders !== undefined
          ? `, ${f.folders} folders`
          : f?.messages !== undefined
            ? `, ${f.messages} messages`
            : f?.sent
              ? ', test message accepted'
              : '';
      return `${proto} login as ${o.user} ok${facts} in ${took}`;
    }
    case 'entra-token': {
      if (!o.ok) {
        const why = o.aadsts ? `AADSTS${o.aadsts}` : o.code;
        return `Entra refused the ${o.flow} request: ${why}${o.oauthError ? ` (${o.oauthError})` : ''} after ${took}`;
      }
      const who = o.claims?.upn ?? o.claims?.unique_name ?? o.claims?.preferred_username;
      const life = o.lifetimeMinutes !== undefined ? `, lasts ${o.lifetimeMinutes} min` : '';
      return `${o.flow} token${who ? ` for ${who}` : ''}${life} in ${took}`;
    }
    case 'graph':
      return o.ok
        ? `Graph ${o.resource} read in ${took}`
        : `Graph ${o.resource ?? o.target} read failed: ${o.code}${o.status ? ` (HTTP ${o.status})` : ''}`;
    case 'exo':
      return o.ok
        ? `${o.cmdlet}${o.identity ? ` ${o.identity}` : ''} read in ${took}`
        : `${o.cmdlet ?? o.target} failed: ${o.code}${o.status ? ` (HTTP ${o.status})` : ''}`;
  }
}

/** Evidence from an observation; `text`, `code` and `ok` override the observation's own. */
export function fromObservation(
  o: Observation,
  override: { text?: string; code?: Code; ok?: boolean } = {},
): Evidence {
  const e: Evidence = {
    vantage: o.vantage,
    target: o.target,
    text: override.text ?? describe(o),
    code: override.code ?? o.code,
    ok: override.ok ?? o.ok,
    durationMs: o.durationMs,
  };
  if (o.server) e.server = o.server;
  const transcript = transcriptOf(o.steps ?? []);
  if (transcript.length) e.transcript = transcript;
  return e;
}

/** Evidence from a fact that needs no probe (an inventory setting, a value read elsewhere). */
export function fact(
  target: string,
  text: string,
  ok: boolean,
  code: Code = 'OK',
  vantage: Vantage = INVENTORY,
): Evidence {
  return { vantage, target, text, code, ok };
}
