/**
 * The lab's ECE redeeming its own tokens on a schedule (src/lab/ece-retriever.ts), over real
 * HTTPS at the lab's Entra: every interval on the lab clock each mailbox's grant is redeemed as
 * ECE's confidential app does, the newest refresh token replaces ECE's copy, and each redemption
 * is a non-interactive sign-in of ECE's app in the tenant's log (o365-facts.md §3.4). When ECE
 * stops for longer than 90 days its last token is refused with AADSTS700082 (o365-facts.md §2.3,
 * §2.5).
 */
import { startLab, type Lab } from '../../src/lab/index';
import { refreshTokenOf } from '../../src/lab/tenant';

const DAY = 86_400_000;
let lab: Lab;

afterEach(async () => {
  await lab?.stop();
});

/** Wait until `ready()` holds; the retriever looks at the lab clock every 50 ms here. */
async function until(ready: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (ready()) return;
    await new Promise(r => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

test('off unless asked for: no lab ECE, no sign-ins', async () => {
  lab = await startLab({ scenarios: [] });
  // The healthy tenant starts with a seeded history of ECE's redemptions; nothing may follow it.
  const seeded = lab.tenant.signIns.length;
  expect(lab.eceRetriever).toBeUndefined();
  lab.clock.advance(3 * 3_600_000);
  await new Promise(r => setTimeout(r, 200));
  expect(lab.tenant.signIns.slice(seeded)).toEqual([]);
});

test('every interval on the lab clock ECE redeems each grant, keeps the newest, and the log shows it', async () => {
  lab = await startLab({ scenarios: [], eceRetriever: { everyMinutes: 60, checkMs: 50 } });
  const seeded = lab.tenant.signIns.length;
  const retriever = lab.eceRetriever!;
  const d = lab.tenant.domain;
  const copies = [
    refreshTokenOf(lab.tenant, `support@${d}`)!,
    refreshTokenOf(lab.tenant, `svc-ece@${d}`)!,
  ];
  // Nothing before the interval has passed on the lab clock.
  await new Promise(r => setTimeout(r, 200));
  expect(retriever.history).toEqual([]);

  lab.clock.advance(61 * 60_000);
  await until(() => retriever.history.length === 2, 'the first redemptions');
  expect(retriever.history.map(h => h.status)).toEqual([200, 200]);
  const log = lab.tenant.signIns.slice(seeded);
  expect(log).toHaveLength(2);
  for (const s of log)
    expect(s).toMatchObject({
      appId: lab.tenant.eceApp.appId,
      errorCode: 0,
      eventType: 'nonInteractiveUser',
      authenticationMethod: 'Previously satisfied',
      ipAddress: '127.0.0.1',
    });
  expect(log.map(s => s.userPrincipalName).sort()).toEqual([`support@${d}`, `svc-ece@${d}`]);

  lab.clock.advance(61 * 60_000);
  await until(() => retriever.history.length === 4, 'the second redemptions');
  // Each redemption handed ECE a new refresh token of its app, and each is in the log.
  const issued = Object.entries(lab.tenant.refreshTokens).filter(
    ([, v]) => v.clientId === lab.tenant.eceApp.appId,
  );
  expect(issued.length).toBeGreaterThanOrEqual(copies.length + 4);
  expect(lab.tenant.signIns.slice(seeded)).toHaveLength(4);

  // ECE stopped for 100 days: its newest token is past its 90 days.
  lab.clock.advance(100 * DAY);
  await until(() => retriever.history.length === 6, 'the redemptions after 100 days');
  expect(retriever.history.slice(4).map(h => h.aadsts)).toEqual([700082, 700082]);
  expect(lab.tenant.signIns.slice(seeded + 4).map(s => s.errorCode)).toEqual([700082, 700082]);
});
