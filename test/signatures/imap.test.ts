/**
 * The imap family of the signature corpus: each published text is answered by a local server
 * through the real probe — IMAP (a scripted implicit-TLS server), at the command context.command names — and the probe's code goes through the registry, the item's
 * rule on an otherwise healthy fixture and the code's remediation.
 */
import { loadFamily } from './corpus';
import {
  closeReplays,
  expectedVerdict,
  heard,
  judgeSignature,
  replayImap,
} from './support/mail-replay';

const sigs = loadFamily('imap');

afterAll(closeReplays);

test('the family has signatures', () => {
  expect(sigs.length).toBeGreaterThan(0);
});

test.each(sigs.map(s => [s.id, s] as const))('%s', async (_id, sig) => {
  const obs = await replayImap(sig);
  // The text reached the probe at the step it answers: the server's words are recorded.
  expect(heard(sig, obs)).toBe(true);
  expect(judgeSignature(sig, obs)).toMatchObject(expectedVerdict(sig));
});
