/**
 * The lab's ECE retriever: what keeps ECE's own token alive. ECE redeems each mailbox's refresh
 * token at Entra whenever its access token runs out (o365-facts.md §3.4: "ECE's token refreshes
 * are non-interactive user sign-ins"), with its confidential app and secret, and keeps the
 * newest refresh token Entra hands back ("Securely delete the old refresh token after acquiring
 * a new one", learn.microsoft.com/entra/identity-platform/refresh-tokens). Here that happens
 * every `everyMinutes` on the lab clock, over real HTTPS to the lab's Entra, so each redemption
 * lands in the tenant's sign-in log as the real ECE's would: a non-interactive sign-in of ECE's
 * app, from ECE's address, with its AADSTS number when refused.
 *
 * The lab clock is looked at every `checkMs` of real time, so moving the clock forward by the
 * interval makes the retriever redeem within a second, and a clock moved 91 days makes it see
 * its token refused (AADSTS700082) as ECE would.
 */
import https from 'node:https';
import type { LabClock } from './clock';

/** One mailbox's grant as ECE holds it. */
export interface EceGrant {
  mailbox: string;
  /** ECE's current refresh token; replaced by the newest after every redemption. */
  refreshToken: string;
  scopes: string[];
}

/** Options of `startEceRetriever`. */
export interface EceRetrieverOptions {
  /** The lab's Entra: 127.0.0.1 and its port; the certificate names login.microsoftonline.com. */
  entraPort: number;
  /** PEM of the lab CA, the only root trusted. */
  ca: string;
  tenantId: string;
  clientId: string;
  /** ECE's client secret (read at every redemption, so a scenario may change it). */
  secret: () => string;
  grants: EceGrant[];
  /** Redeem every this many lab-minutes (ECE's access tokens last 60–90 minutes). */
  everyMinutes: number;
  clock: LabClock;
  /** How often the lab clock is looked at, in real milliseconds (default 1000). */
  checkMs?: number;
  /** Deadline of one redemption (default 5000 ms). */
  timeoutMs?: number;
}

/** What one redemption got: the HTTP status and, when refused, the AADSTS number. */
export interface EceRedemption {
  mailbox: string;
  status: number;
  aadsts?: number;
}

/** A running retriever. */
export interface EceRetriever {
  /** Redeem every grant now (what the schedule does when its interval has passed). */
  redeemNow(): Promise<EceRedemption[]>;
  /** Every redemption so far, oldest first. */
  readonly history: readonly EceRedemption[];
  stop(): Promise<void>;
}

const LOGIN = 'login.microsoftonline.com';

/** Start redeeming on the schedule; the first redemption is one interval after the start. */
export function startEceRetriever(opts: EceRetrieverOptions): EceRetriever {
  const history: EceRedemption[] = [];
  let last = opts.clock.nowMs();
  let running: Promise<EceRedemption[]> | undefined;
  let stopped = false;

  const redeemNow = (): Promise<EceRedemption[]> => {
    running ??= (async () => {
      try {
        const out: EceRedemption[] = [];
        for (const g of opts.grants) out.push(await redeem(opts, g));
        history.push(...out);
        return out;
      } finally {
        last = opts.clock.nowMs();
        running = undefined;
      }
    })();
    return running;
  };

  const timer = setInterval(() => {
    if (stopped || running) return;
    if (opts.clock.nowMs() - last >= opts.everyMinutes * 60_000) {
      // A failed redemption is in `history` with its status; a thrown one (the lab stopping
      // under it) has nothing to record, and the next tick tries again.
      redeemNow().catch(() => undefined);
    }
  }, opts.checkMs ?? 1000);
  timer.unref();

  return {
    redeemNow,
    history,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running?.catch(() => undefined);
    },
  };
}

/** One refresh-token grant (RFC 6749 §6), as a confidential client sends it. */
async function redeem(opts: EceRetrieverOptions, g: EceGrant): Promise<EceRedemption> {
  const body = new URLSearchParams({
    grant_type: 'refresh_token',
    client_id: opts.clientId,
    client_secret: opts.secret(),
    refresh_token: g.refreshToken,
    scope: [...g.scopes, 'offline_access'].join(' '),
  }).toString();
  const answer = await post(opts, `/${opts.tenantId}/oauth2/v2.0/token`, body);
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(answer.text) as Record<string, unknown>;
  } catch {
    // Not JSON: the status alone is recorded.
  }
  const next = json.refresh_token;
  // ECE keeps the newest refresh token; the old one is never sent again.
  if (answer.status === 200 && typeof next === 'string') g.refreshToken = next;
  const codes = json.error_codes;
  const first: unknown = Array.isArray(codes) ? codes[0] : undefined;
  return {
    mailbox: g.mailbox,
    status: answer.status,
    ...(typeof first === 'number' ? { aadsts: first } : {}),
  };
}

function post(
  opts: EceRetrieverOptions,
  path: string,
  body: string,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port: opts.entraPort,
        servername: LOGIN,
        ca: opts.ca,
        method: 'POST',
        path,
        agent: false,
        timeout: opts.timeoutMs ?? 5000,
        headers: {
          host: `${LOGIN}:${opts.entraPort}`,
          // ECE is a Java application; what exactly its HTTP client sends is unknown (lab's
          // choice). It must not be ecebot's, so the log tells the two apart.
          'user-agent': 'Java (lab ECE retriever)',
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': String(Buffer.byteLength(body)),
        },
      },
      res => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('the lab Entra did not answer in time')));
    req.on('error', reject);
    req.end(body);
  });
}
