/**
 * Schemas of the Exchange Online admin API replies (`POST /adminapi/beta/{tenant}/InvokeCommand`,
 * o365-facts.md §3.5): `{"value": [ …rows… ], "@odata.nextLink"?, "@adminapi.warnings"?}`, one
 * row per object the cmdlet returned, with its properties by their PowerShell names.
 *
 * Only the properties the rules judge are named, with their .NET types: `ImapEnabled`,
 * `PopEnabled` and `Deny` are System.Boolean; `SmtpClientAuthenticationDisabled` is a nullable
 * Boolean (`$null` = follow Get-TransportConfig, §3.5); `User` is the trustee's name. Other
 * properties (Identity, PrimarySmtpAddress, IsInherited, InheritanceType…) are accepted and
 * dropped.
 */
import { z } from 'zod';
import type {
  CasMailboxRow,
  ExoCmdletName,
  ExoFacts,
  MailboxPermissionRow,
  RecipientPermissionRow,
  TransportConfigRow,
} from '../../model';
import type { Assert, Same } from './same';

/** Get-CASMailbox: the protocol switches of one mailbox. */
export const casMailboxRow = z.object({
  ImapEnabled: z.boolean().optional(),
  PopEnabled: z.boolean().optional(),
  SmtpClientAuthenticationDisabled: z.boolean().nullable().optional(),
});

/**
 * Get-MailboxPermission: PowerShell shows AccessRights as `{FullAccess, ReadPermission}`; over
 * REST it arrives as an array of names, and a flattened form may join them in one string. All
 * forms become one right per element here, so the rules compare names only.
 */
export const mailboxPermissionRow = z.object({
  User: z.string(),
  AccessRights: z
    .union([z.array(z.string()), z.string()])
    .transform(v => [v].flat().flatMap(s => s.split(/[\s,]+/).filter(Boolean))),
  Deny: z.boolean().optional(),
});

/**
 * Get-RecipientPermission: who may send as the mailbox. Rows carry Identity, Trustee,
 * AccessControlType, AccessRights, IsInherited and InheritanceType (learn.microsoft.com
 * Get-RecipientPermission; field list as in documentation.voss-solutions.com's
 * RecipientPermission model). AccessRights is a MultiValuedProperty like Get-MailboxPermission's,
 * so it is read the same way.
 */
export const recipientPermissionRow = z.object({
  Trustee: z.string(),
  AccessRights: z
    .union([z.array(z.string()), z.string()])
    .transform(v => [v].flat().flatMap(s => s.split(/[\s,]+/).filter(Boolean))),
  AccessControlType: z.string().optional(),
});

/** Get-TransportConfig: the organisation-wide SMTP AUTH switch. */
export const transportConfigRow = z.object({
  SmtpClientAuthenticationDisabled: z.boolean().nullable().optional(),
});

/** The rows envelope every InvokeCommand reply has. */
function rows<T extends z.ZodType>(row: T) {
  return z.object({ value: z.array(row), '@odata.nextLink': z.string().optional() });
}

/** The reply schema of each cmdlet. */
export const EXO_REPLY = {
  'Get-CASMailbox': rows(casMailboxRow),
  'Get-MailboxPermission': rows(mailboxPermissionRow),
  'Get-RecipientPermission': rows(recipientPermissionRow),
  'Get-TransportConfig': rows(transportConfigRow),
} satisfies Record<ExoCmdletName, z.ZodType>;

/** Compiles only while every Exchange schema yields its declared row type. */
export type ExoSchemasMatchTypes = [
  Assert<Same<z.output<typeof casMailboxRow>, CasMailboxRow>>,
  Assert<Same<z.output<typeof mailboxPermissionRow>, MailboxPermissionRow>>,
  Assert<Same<z.output<typeof recipientPermissionRow>, RecipientPermissionRow>>,
  Assert<Same<z.output<typeof transportConfigRow>, TransportConfigRow>>,
  Assert<Same<{ [C in ExoCmdletName]: z.output<(typeof EXO_REPLY)[C]>['value'] }, ExoFacts>>,
];
