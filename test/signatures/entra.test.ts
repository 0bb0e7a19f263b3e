/**
 * The Entra family: each published AADSTS text is answered by a replaying Entra over real HTTPS
 * (./entra-replay.ts) to ecebot's token code (msal-node), so the code comes from ecebot's own
 * parser; the observation then goes through the rule of the item the source points to and
 * `remediationFor`, whose words are held to what the source says the fix is (and is not).
 */
import { declarationOf } from '../../src/checklist/items';
import { refusalCode, refusalFix } from '../../src/checklist/rule';
import { CODE_TABLE, isCode } from '../../src/knowledge/codes';
import { aadstsLookup } from '../../src/knowledge/links';
import { remediationFor } from '../../src/knowledge/remediation';
import type { Remediation } from '../../src/model';
import { clientCredentials, redeemRefreshToken } from '../../src/probes/entra';
import { CLIENT_ID, facts, NOW, SUPPORT } from '../checklist/fixtures';
import { fixMatches, loadFamily, type Signature } from './corpus';
import { bodyOf, startEntraReplay, type EntraReplay } from './entra-replay';

const family = loadFamily('entra');
let replay: EntraReplay;

beforeAll(async () => {
  replay = await startEntraReplay();
});

afterAll(async () => {
  await replay.close();
});

const SCOPES = [
  'https://outlook.office.com/IMAP.AccessAsUser.All',
  'https://outlook.office.com/SMTP.Send',
  'offline_access',
];
// Stand-ins: the replay never checks them; they only make msal send a confidential request.
const SECRET = 'replay-client-secret-value';
const REFRESH = '0.AXMAreplay-refresh-token';

/** Run one signature through the token code; the observation msal's answer became. */
async function observe(sig: Signature) {
  const c = sig.context ?? {};
  replay.set({
    stage: c.stage === 'discovery' ? 'discovery' : 'token',
    status: typeof c.status === 'number' ? c.status : 400,
    body: bodyOf(sig.text, c),
  });
  if (c.flow === 'client-credentials') {
    const r = await clientCredentials(replay.ctx, replay.target, {
      clientId: CLIENT_ID,
      secret: SECRET,
      scopes: ['https://graph.microsoft.com/.default'],
      purpose: 'ece-app',
    });
    return r.observation;
  }
  const signin = c.purpose === 'signin';
  const r = await redeemRefreshToken(replay.ctx, replay.target, {
    clientId: CLIENT_ID,
    ...(signin ? {} : { secret: SECRET }),
    refreshToken: REFRESH,
    scopes: SCOPES,
    mailbox: SUPPORT,
    purpose: signin ? 'signin' : 'mailbox',
  });
  return r.observation;
}

describe.each(family.map(s => [s.id, s] as const))('%s', (_id, sig) => {
  test('ecebot reads the code, the item judges it, the fix is the source’s', async () => {
    const o = await observe(sig);
    expect(o.ok).toBe(false);
    if (sig.context?.stage !== 'discovery') expect(replay.tokenRequests.length).toBeGreaterThan(0);
    // Entra's words travel beside the code, never replaced.
    const n = /AADSTS(\d+)/.exec(sig.text)?.[1];
    expect(o.server).toContain(`AADSTS${n}`);

    const observed = o.purpose === 'signin' ? o.code : refusalCode(o);
    if (sig.expect.code) expect(observed).toBe(sig.expect.code);
    expect(isCode(observed)).toBe(true);
    expect(CODE_TABLE[observed].item).toBe(sig.expect.item);

    const env = facts();
    let rem: Remediation | undefined;
    if (sig.expect.item !== null) {
      const rule = declarationOf(sig.expect.item)!.rule;
      const finding = rule({ env, observations: [o], now: NOW });
      expect(finding.status).toBe('fail');
      expect(finding.codes).toContain(observed);
      rem = finding.remediation.find(r => r.code === observed);
    } else {
      rem = remediationFor(observed, { env, mailbox: SUPPORT, account: SUPPORT, ...refusalFix(o) });
    }
    expect(rem).toBeDefined();
    const words = `${rem!.text}\n${rem!.fix ?? ''}`;
    expect(fixMatches(words, sig.expect)).toEqual({ missing: [], forbidden: [] });
    // Every AADSTS number gets Microsoft's lookup page, known to ecebot or not.
    expect(rem!.links.map(l => l.url)).toContain(aadstsLookup(Number(n)).url);
  });
});
