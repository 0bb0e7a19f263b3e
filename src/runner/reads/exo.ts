/**
 * Exchange admin reads with ecebot's read-only app (o365-facts.md §3.5): the tenant-wide SMTP
 * AUTH switch, each mailbox's protocol flags, and Full Access rows of each shared mailbox.
 */
import { getCasMailbox, getMailboxPermission, getTransportConfig } from '../../probes/exo';
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
      rc.run.env.mailboxes.map(m =>
        guarded(x, 'exo', m.address, () => getCasMailbox(x, target(rc, token), m.address)),
      ),
    ),
};

export const exoMailboxPermission: ReadDeclaration = {
  name: 'exo-mailbox-permission',
  on: central,
  uses,
  observe: rc =>
    withAppToken(rc, EXO_SCOPE, (token, x) =>
      rc.run.env.mailboxes
        .filter(m => m.access === 'shared')
        .map(m =>
          guarded(x, 'exo', m.address, () => getMailboxPermission(x, target(rc, token), m.address)),
        ),
    ),
};
