/**
 * The lab's Exchange Online admin API: the REST route ExchangeOnlineManagement v3 uses,
 * `POST /adminapi/beta/{tenantId}/InvokeCommand` (o365-facts.md §3.5), for the four read-only
 * cmdlets ecebot runs for the mailbox-protocols and mailbox-rights items (Get-CASMailbox,
 * Get-MailboxPermission, Get-RecipientPermission, Get-TransportConfig). Answers come from the
 * lab tenant at the moment of the request.
 *
 * Wire shapes:
 * - success: `{"@odata.context": …, "value": [ …rows… ]}`;
 * - token refused (bad, expired, wrong audience or tenant, or no `Exchange.ManageAsApp` role):
 *   401 with an empty body and an RFC 6750 §3 `WWW-Authenticate: Bearer … error="invalid_token"`
 *   challenge whose `error_description` says why. A live tenant sends 401 (not 403) when the
 *   role is missing (§3.5, reported);
 * - cmdlet errors (400 bad input or unknown cmdlet, 404 unknown mailbox): the adminapi error
 *   envelope, where `error.message` is always "Invalid Operation" and the real text sits in
 *   `error.details[0].message` and `error.innererror.internalexception.message` (§3.5 quirks).
 *   The `error.code` values (`BadRequest`, `NotFound`) are the lab's choice.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  bearerToken,
  readBody,
  sendEmpty,
  sendJson,
  splitUrl,
  startHttpsServer,
  type ServerTls,
} from './http-util';
import type { LabState, RunningServer } from './server-types';
import { namesOf, userNamed, type LabMailbox, type LabTenant } from './tenant';
import { verifyAccessToken } from './tokens';

/** The audience the admin API accepts (token scope `https://outlook.office365.com/.default`). */
export const EXO_AUDIENCE = 'https://outlook.office365.com';

/** The app role the admin API needs; look-alike roles do not work (o365-facts.md §3.5). */
export const EXO_ADMIN_ROLE = 'Exchange.ManageAsApp';

/** Options for `startExoServer`. */
export interface ExoServerOptions {
  /** Tenant and keys; read on every request, never copied. */
  state: LabState;
  /** Certificate for outlook.office365.com from the lab CA. */
  tls: ServerTls;
  /** Port on 127.0.0.1; 0 or unset picks a free one. */
  port?: number;
}

/** A row of cmdlet output as InvokeCommand serialises it. */
type Row = Record<string, unknown>;

/** A cmdlet's outcome: rows, or an error with the status and PowerShell's own text. */
type CmdletResult =
  | { ok: true; rows: Row[] }
  | { ok: false; status: number; code: string; text: string; type: string };

/** Host name used in "couldn't be found on '…'" texts, shaped like an Exchange Online DC. */
const DC_NAME = 'LAB01A001DC001.LABPRD01.PROD.OUTLOOK.COM';

/** Start the lab Exchange admin API on 127.0.0.1. */
export function startExoServer(opts: ExoServerOptions): Promise<RunningServer> {
  return startHttpsServer(opts.tls, (req, res) => handle(opts.state, req, res), opts.port);
}

async function handle(state: LabState, req: IncomingMessage, res: ServerResponse) {
  const requestId = randomUUID();
  const base = { 'request-id': requestId };
  const { path } = splitUrl(req);
  const m = /^\/adminapi\/beta\/([^/]+)\/InvokeCommand$/i.exec(path);
  if (!m) {
    return sendJson(res, 404, adminError('NotFound', `No route for ${path}.`, ''), base);
  }
  if (req.method !== 'POST') {
    return sendJson(res, 405, adminError('BadRequest', 'InvokeCommand takes POST.', ''), {
      ...base,
      allow: 'POST',
    });
  }

  const refusal = authorize(state, req, decodeURIComponent(m[1]!));
  if (refusal) {
    return sendEmpty(res, 401, {
      ...base,
      'www-authenticate': `Bearer client_id="00000002-0000-0ff1-ce00-000000000000", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", error="invalid_token", error_description="${refusal}"`,
    });
  }

  const input = parseInput(await readBody(req));
  if ('error' in input) {
    return sendJson(
      res,
      400,
      adminError('BadRequest', input.error, 'System.ArgumentException'),
      base,
    );
  }
  const result = runCmdlet(state.tenant, input.name, input.parameters);
  if (!result.ok) {
    return sendJson(res, result.status, adminError(result.code, result.text, result.type), base);
  }
  return sendJson(
    res,
    200,
    {
      '@odata.context': `${EXO_AUDIENCE}/adminapi/beta/${state.tenant.tenantId}/$metadata#Collection(Exchange.GenericHashTable)`,
      value: result.rows,
    },
    base,
  );
}

/**
 * Why the token is refused, or undefined when it may call the API: valid signature and
 * lifetime, audience outlook.office365.com, this tenant (path and `tid`), and the
 * Exchange.ManageAsApp app role.
 */
function authorize(state: LabState, req: IncomingMessage, pathTenant: string): string | undefined {
  const token = bearerToken(req);
  if (!token) return 'no bearer token';
  const v = verifyAccessToken(state.keys, token, [EXO_AUDIENCE]);
  if (!v.ok) {
    return {
      expired: 'the token has expired',
      audience: 'the token audience is not https://outlook.office365.com',
      signature: 'the token signature is invalid',
      malformed: 'the token is malformed',
    }[v.reason];
  }
  const t = state.tenant;
  const known = [t.tenantId.toLowerCase(), t.domain.toLowerCase()];
  if (v.claims.tid !== t.tenantId || !known.includes(pathTenant.toLowerCase())) {
    return 'the token is for another tenant';
  }
  const roles = Array.isArray(v.claims.roles) ? v.claims.roles.map(String) : [];
  if (!roles.includes(EXO_ADMIN_ROLE)) return `the token lacks the ${EXO_ADMIN_ROLE} role`;
  return undefined;
}

/** The error envelope of the admin API (see the file comment). */
function adminError(code: string, text: string, type: string): Record<string, unknown> {
  return {
    error: {
      code,
      message: 'Invalid Operation',
      details: [{ code: 'Context', target: '', message: text }],
      innererror: { message: text, type, internalexception: { message: text } },
    },
  };
}

/** `{"CmdletInput":{"CmdletName":…,"Parameters":{…}}}` → name and parameters. */
function parseInput(
  body: string,
): { name: string; parameters: Record<string, unknown> } | { error: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { error: 'The request body is not valid JSON.' };
  }
  const input = (parsed as { CmdletInput?: unknown } | null)?.CmdletInput;
  if (!input || typeof input !== 'object') return { error: 'CmdletInput is missing.' };
  const { CmdletName, Parameters } = input as { CmdletName?: unknown; Parameters?: unknown };
  if (typeof CmdletName !== 'string' || !CmdletName) return { error: 'CmdletName is missing.' };
  if (Parameters !== undefined && (typeof Parameters !== 'object' || Parameters === null)) {
    return { error: 'Parameters must be an object.' };
  }
  return { name: CmdletName, parameters: (Parameters as Record<string, unknown>) ?? {} };
}

/** A parameter by name; PowerShell parameter names are case-insensitive. */
function param(parameters: Record<string, unknown>, name: string): unknown {
  const key = Object.keys(parameters).find(k => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : parameters[key];
}

/**
 * The mailbox an -Identity names: its address, its alias (the address's local part), or any
 * name of its owner (UPN, SMTP proxy address), all of which -Identity accepts.
 */
function findMailbox(tenant: LabTenant, identity: string): LabMailbox | undefined {
  const key = identity.toLowerCase();
  const byAddress = tenant.mailboxes.find(
    mb => mb.address.toLowerCase() === key || mb.address.split('@')[0]!.toLowerCase() === key,
  );
  if (byAddress) return byAddress;
  const owner = userNamed(tenant, identity);
  return owner
    ? tenant.mailboxes.find(mb => namesOf(owner).includes(mb.owner.toLowerCase()))
    : undefined;
}

/** Exchange names a mailbox object by its alias. */
function nameOf(mb: LabMailbox): string {
  return mb.address.split('@')[0]!;
}

function notFound(identity: string): CmdletResult {
  // Exchange Online's wording for an -Identity that names nothing.
  return {
    ok: false,
    status: 404,
    code: 'NotFound',
    text: `The operation couldn't be performed because object '${identity}' couldn't be found on '${DC_NAME}'.`,
    type: 'Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException',
  };
}

function casRow(mb: LabMailbox): Row {
  return {
    Identity: nameOf(mb),
    PrimarySmtpAddress: mb.address,
    ImapEnabled: mb.imapEnabled,
    PopEnabled: mb.popEnabled,
    // null = follow Get-TransportConfig; the mailbox value overrides the org (§3.5).
    SmtpClientAuthenticationDisabled: mb.smtpClientAuthenticationDisabled,
  };
}

/** Default rights plus one row per Full Access holder (§3.5, BlueHippo #2 output). */
function permissionRows(mb: LabMailbox): Row[] {
  const row = (user: string, rights: string[]): Row => ({
    Identity: nameOf(mb),
    User: user,
    AccessRights: rights,
    Deny: false,
    IsInherited: false,
    InheritanceType: 'All',
  });
  return [
    row('NT AUTHORITY\\SELF', ['FullAccess', 'ReadPermission']),
    ...mb.fullAccess.map(upn => row(upn, ['FullAccess'])),
  ];
}

/**
 * Send As rows (Get-RecipientPermission fields: Identity, Trustee, AccessControlType,
 * AccessRights, IsInherited, InheritanceType; learn.microsoft.com Get-RecipientPermission). A
 * mailbox's own account shows as `NT AUTHORITY\SELF` with SendAs (lab's choice, by analogy
 * with Get-MailboxPermission's SELF row), then one row per grant.
 */
function recipientRows(mb: LabMailbox): Row[] {
  const row = (trustee: string): Row => ({
    Identity: nameOf(mb),
    Trustee: trustee,
    AccessControlType: 'Allow',
    AccessRights: ['SendAs'],
    IsInherited: false,
    InheritanceType: 'None',
  });
  return [row('NT AUTHORITY\\SELF'), ...mb.sendAs.map(row)];
}

/** Run one of the four cmdlets the lab knows against the tenant. */
function runCmdlet(
  tenant: LabTenant,
  name: string,
  parameters: Record<string, unknown>,
): CmdletResult {
  const identity = param(parameters, 'Identity');
  if (identity !== undefined && typeof identity !== 'string') {
    return {
      ok: false,
      status: 400,
      code: 'BadRequest',
      text: "Cannot bind parameter 'Identity': expected a string.",
      type: 'System.Management.Automation.ParameterBindingException',
    };
  }
  switch (name.toLowerCase()) {
    case 'get-casmailbox': {
      if (identity === undefined) return { ok: true, rows: tenant.mailboxes.map(casRow) };
      const mb = findMailbox(tenant, identity);
      return mb ? { ok: true, rows: [casRow(mb)] } : notFound(identity);
    }
    case 'get-mailboxpermission': {
      if (identity === undefined) {
        return {
          ok: false,
          status: 400,
          code: 'BadRequest',
          text: 'Cannot process command because of one or more missing mandatory parameters: Identity.',
          type: 'System.Management.Automation.ParameterBindingException',
        };
      }
      const mb = findMailbox(tenant, identity);
      return mb ? { ok: true, rows: permissionRows(mb) } : notFound(identity);
    }
    case 'get-recipientpermission': {
      // Without -Identity the cmdlet lists every recipient's grants (its Identity is optional).
      if (identity === undefined)
        return { ok: true, rows: tenant.mailboxes.flatMap(recipientRows) };
      const mb = findMailbox(tenant, identity);
      return mb ? { ok: true, rows: recipientRows(mb) } : notFound(identity);
    }
    case 'get-transportconfig':
      return {
        ok: true,
        rows: [{ SmtpClientAuthenticationDisabled: tenant.smtpAuthDisabledOrg }],
      };
    default:
      return {
        ok: false,
        status: 400,
        code: 'BadRequest',
        text: `The term '${name}' is not recognized as a name of a cmdlet, function, script file, or executable program.`,
        type: 'System.Management.Automation.CommandNotFoundException',
      };
  }
}
