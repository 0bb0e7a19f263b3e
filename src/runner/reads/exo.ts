/**
 * Exchange admin reads with ecebot's read-only app (o365-facts.md §3.5): the tenant-wide SMTP
 * AUTH switch, the protocol flags of each mailbox and of each account that signs in (SMTP AUTH is
 * that account's, o365-facts.md §1.5), and each mailbox's Full Access and Send As rows (a
 * mailbox-model token may come from a Full Access delegate too).
 */
import {
  getCasMailbox,
  getMailboxPermission,
  getRecipientPermission,
  getTransportConfig,
} from '../../probes/exo';
import { accountOf } from './mailbox';
import type { ReadContext, ReadDeclaration } from './read';
import { guarded } from './read';
import { EXO_SCOPE, withAppToken } from './tenant';

const central = ['central'] as const;
const uses = ['exchange-token'] as const;

const target = (rc: ReadContext, token: string) => ({
  exo: rc.endpoints.exo,
  token,
  tenantId: rc.run.env.tenant.id,
});

export const exoTransportConfig: ReadDeclaration = {
  name: 'exo-transport-config',
  on: central,
  uses,
  observe: rc =>
    withAppToken(rc, EXO_SCOPE, (token, x) => [
      guarded(x, 'exo', 'Get-TransportConfig', () => getTransportConfig(x, target(rc, token))),
    ]),
};

export const exoCasMailbox: ReadDeclaration = {
  name: 'exo-cas-mailbox',
  on: central,
  uses,
  observe: rc =>
    withAppToken(rc, EXO_SCOPE, (token, x) =>
      mailboxesAndAccounts(rc).map(a =>
        guarded(x, 'exo', a, () => getCasMailbox(x, target(rc, token), a)),
      ),
    ),
};

/** Each mailbox and each account that signs in for one, once (case-insensitive). */
function mailboxesAndAccounts(rc: ReadContext): string[] {
  const seen = new Map<string, string>();
  for (const m of rc.run.env.mailboxes) {
    for (const a of [m.address, accountOf(m)]) {
      if (!seen.has(a.toLowerCase())) seen.set(a.toLowerCase(), a);
    }
  }
  return [...seen.values()];
}

export const exoMailboxPermission: ReadDeclaration = {
  name: 'exo-mailbox-permission',
  on: central,
  uses,
  observe: rc =>
    withAppToken(rc, EXO_SCOPE, (token, x) =>
      rc.run.env.mailboxes.map(m =>
        guarded(x, 'exo', m.address, () => getMailboxPermission(x, target(rc, token), m.address)),
      ),
    ),
};

export const exoRecipientPermission: ReadDeclaration = {
  name: 'exo-recipient-permission',
  on: central,
  uses,
  observe: rc =>
    withAppToken(rc, EXO_SCOPE, (token, x) =>
      rc.run.env.mailboxes.map(m =>
        guarded(x, 'exo', m.address, () => getRecipientPermission(x, target(rc, token), m.address)),
      ),
    ),
};
