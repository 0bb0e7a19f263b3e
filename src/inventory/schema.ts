/**
 * The inventory schema: one YAML file (or a folder of them) describing each ECE environment.
 * Secrets are references only (`env:NAME`, `file:PATH`), never values (DESIGN.md, Inventory).
 */
import { isIP } from 'node:net';
import { z } from 'zod';

/** `env:NAME` or `file:PATH` (relative to the inventory file). */
export const SecretRef = z.string().regex(/^(env:[A-Za-z_][A-Za-z0-9_]*|file:.+)$/, {
  message:
    'must be a secret reference: env:NAME or file:PATH (secret values never go in the inventory)',
});

const HostPort = z.strictObject({
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535),
});

const Email = z
  .string()
  .regex(/^[^@\s]+@[^@\s]+\.[^@\s]+$/, { message: 'must be an email address' });
const GUID = '[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}';
const Guid = z.string().regex(new RegExp(`^${GUID}$`), { message: 'must be a GUID' });

/**
 * A team as Teams names it in `channelData.team.id` (a thread id, `19:…@thread.tacv2`, or
 * `…@thread.skype` for older teams) or the team's Microsoft 365 group id (a GUID).
 */
const TeamRef = z.string().regex(new RegExp(`^(19:[^\\s@]+@thread\\.(tacv2|skype)|${GUID})$`), {
  message:
    'must be a team id as Teams sends it (19:…@thread.tacv2) or the team’s Entra group id (a GUID)',
});

/** Where ecebot talks to: the real Microsoft hosts by default, the lab's when overridden. */
export const EndpointsSchema = z.strictObject({
  login: HostPort.optional(),
  graph: HostPort.optional(),
  exo: HostPort.optional(),
  imap: HostPort.optional(),
  pop3: HostPort.optional(),
  smtp: HostPort.optional(),
  /** Extra CA file (PEM) to trust, e.g. the lab's or a TLS-inspecting proxy's. */
  caFile: z.string().min(1).optional(),
  /** Static name → IP map (like a hosts file). */
  hosts: z.record(z.string(), z.string().min(1)).optional(),
  /** DNS servers to ask (`ip` or `ip:port`) instead of the system resolver. */
  dnsServers: z.array(z.string().min(1)).min(1).optional(),
  /**
   * HTTP proxy the ECE servers' HTTPS goes through (`http://proxy.example.com:3128`); without
   * it, the HTTPS_PROXY environment variable applies. Credentials never go here (secret values
   * stay out of the inventory): see `proxyCredentials`.
   */
  proxy: z
    .string()
    .regex(/^http:\/\/[^\s/@]+(:\d+)?\/?$/i, {
      message:
        'must be http://host:port, without credentials (put them in proxyCredentials: env:NAME) or a path',
    })
    .optional(),
  /** `user:password` for the proxy (Basic, RFC 7617), by reference: `env:NAME` or `file:PATH`. */
  proxyCredentials: SecretRef.optional(),
});

const ServerEndpoints = EndpointsSchema.omit({
  caFile: true,
  hosts: true,
  dnsServers: true,
  proxy: true,
  proxyCredentials: true,
}).extend({
  /** Override of where this server reaches the ECE external URL (lab only). */
  ece: HostPort.optional(),
});

/** One IPv4 or IPv6 address, as Entra's sign-in log writes the client's (`ipAddress`). */
const IpAddress = z.string().refine(a => isIP(a) !== 0, {
  message:
    'must be an IPv4 or IPv6 address (like 10.0.0.11 or 2001:db8::11), without a port or a prefix length',
});

export const ServerSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, {
    message: 'must be a host-like name (letters, digits, . _ -)',
  }),
  role: z.enum(['services', 'application']),
  /** Per-server endpoint overrides (what this server's network looks like). */
  endpoints: ServerEndpoints.optional(),
  /**
   * The addresses Entra sees this server connect from (its public or NAT address), compared
   * with the client IP of ECE's sign-ins; unknown when not given.
   */
  addresses: z
    .array(IpAddress)
    .min(1, { message: 'list at least one address, or leave `addresses` out' })
    .optional(),
});

export const MailboxSchema = z
  .strictObject({
    address: Email,
    /** `mailbox`: the mailbox's own account and token; `shared`: an account with Full Access. */
    access: z.enum(['mailbox', 'shared']),
    account: Email.optional(),
    retrieve: z.enum(['imap', 'pop3']),
    /** Refresh token for this mailbox's token (from `ecebot signin` or ECE), by reference. */
    refreshToken: SecretRef.optional(),
    /** Send a test message to the mailbox itself during the connectivity check. */
    sendTest: z.boolean().optional(),
  })
  .refine(m => m.access !== 'shared' || !!m.account, {
    message: 'a shared mailbox needs `account`: the account whose token ECE uses',
    path: ['account'],
  });

/**
 * Where a webhook may post: `https:` anywhere, or plain `http:` to 127.0.0.1 only (a receiver
 * on the same machine: tests, the lab, a local relay). No credentials in the URL (the signing
 * secret is a reference, `secret`), no fragment. Undefined when allowed, else why not.
 */
export function webhookUrlRefusal(raw: string): string | undefined {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return 'is not a URL';
  }
  if (u.username || u.password)
    return 'holds credentials: put none in the URL (the signing secret goes in `secret`)';
  if (u.hash) return 'has a #fragment, which is never sent';
  if (u.protocol === 'https:') return undefined;
  if (u.protocol === 'http:' && u.hostname === '127.0.0.1') return undefined;
  return 'must be https:// (plain http:// only to 127.0.0.1)';
}

/**
 * A webhook of an environment: its alerts also go to this URL as signed JSON (for PagerDuty,
 * Jira Service Management or ServiceNow routing; docs/overview-and-webhook.md). Only the
 * inventory names webhook URLs: nothing in chat can point ecebot at another host.
 */
export const WebhookSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, {
    message: 'webhook names are lowercase letters, digits, - and _',
  }),
  url: z
    .string()
    .max(2048)
    .superRefine((v, ctx) => {
      const why = webhookUrlRefusal(v);
      if (why) ctx.addIssue({ code: 'custom', message: `the webhook URL ${why}` });
    }),
  /** The HMAC-SHA256 signing key, by reference (`env:NAME`, `file:PATH`). */
  secret: SecretRef,
});

export const BudgetSchema = z.strictObject({
  dnsMs: z.number().int().positive().optional(),
  connectMs: z.number().int().positive().optional(),
  tlsMs: z.number().int().positive().optional(),
  greetingMs: z.number().int().positive().optional(),
  commandMs: z.number().int().positive().optional(),
  totalMs: z.number().int().positive().optional(),
  /** A mail step slower than this is reported as a warning. */
  slowMs: z.number().int().positive().optional(),
});

/** A duration like `30m`, `4h` or `1d` (`s` too, for labs and tests). */
const AlertDuration = z.string().regex(/^[1-9]\d*[smhd]$/, {
  message: 'must be a duration like 30m, 4h or 1d',
});

/**
 * A weekly maintenance window (src/notify/windows.ts): the days it starts on, a wall-clock range
 * (`to` not after `from` runs past midnight) and the IANA time zone the times are in.
 */
export const MaintenanceWindowSchema = z
  .strictObject({
    days: z
      .array(z.enum(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']))
      .min(1, { message: 'list at least one day: mon, tue, wed, thu, fri, sat or sun' }),
    from: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, { message: 'must be a time like 22:00' }),
    to: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, { message: 'must be a time like 02:00' }),
    tz: z.string().refine(
      tz => {
        try {
          new Intl.DateTimeFormat('en-US', { timeZone: tz });
          return true;
        } catch {
          return false;
        }
      },
      { message: 'must be an IANA time zone like Europe/Amsterdam or UTC' },
    ),
  })
  .refine(w => w.from !== w.to, {
    message: 'from and to are the same time: a window needs a length',
    path: ['to'],
  });

/**
 * On-call settings of an environment's alerts (docs/on-call.md): escalation to a second
 * conversation after a while unacknowledged, the reminder interval, and weekly maintenance
 * windows.
 */
export const AlertsSchema = z
  .strictObject({
    /**
     * The conversation to escalate to: its key as ecebot stores it, the conversation id Teams
     * sends (`19:…@thread.tacv2` for a channel, `19:…@thread.v2` for a group chat, `a:…` for
     * a personal chat). ecebot must have been added there (it keeps the reference then).
     */
    escalateTo: z
      .string()
      .regex(/^(19:[^\s;]+@thread\.(tacv2|skype|v2)|a:[^\s;]+)$/, {
        message:
          'must be a conversation id as Teams sends it (19:…@thread.tacv2 for a channel, 19:…@thread.v2 for a group chat, a:… for a personal chat); `envs` in that conversation does not show it, the bot log does',
      })
      .optional(),
    /** How long an alert may stay unacknowledged before it is escalated (default 30m). */
    escalateAfter: AlertDuration.optional(),
    /** Time between reminders while an alert stays open (default 4h). */
    reminder: AlertDuration.optional(),
    maintenance: z
      .array(MaintenanceWindowSchema)
      .min(1, { message: 'list at least one window, or leave `maintenance` out' })
      .max(20, { message: 'at most 20 windows' })
      .optional(),
  })
  .refine(a => !a.escalateAfter || !!a.escalateTo, {
    message: 'escalateAfter needs escalateTo: the conversation to escalate to',
    path: ['escalateTo'],
  });

export const EnvironmentSchema = z.strictObject({
  description: z.string().optional(),
  ece: z.strictObject({
    /** ECE release as Cisco writes it, e.g. `12.6(1)`. */
    version: z.string().regex(/^\d+\.\d+\(\d+\)$/, { message: 'must look like 12.6(1)' }),
    /** Engineering Special number installed (0 = none). */
    es: z.number().int().min(0),
    /** Engineering Test fix on top of the ES (11.6(1) needs ES12 ET1). */
    et: z.number().int().min(0).optional(),
    /** "External URL of the application"; absent when not configured. */
    externalUrl: z.string().optional(),
    /** URL admins use to open the administration console, when it differs. */
    adminUrl: z.string().optional(),
    /**
     * Longest time without a successful ECE sign-in before the token item warns, like `3h`
     * (default 3h: ECE redeems its token at least every 60–90 minutes).
     */
    maxSignInGap: z
      .string()
      .regex(/^[1-9]\d*[mhd]$/, { message: 'must be a duration like 90m, 3h or 1d' })
      .optional(),
  }),
  servers: z.array(ServerSchema).min(1, { message: 'list at least the services server' }),
  tenant: z.strictObject({ id: Guid, domain: z.string().optional() }),
  app: z
    .strictObject({
      clientId: Guid,
      secret: SecretRef.optional(),
      certificate: z.strictObject({ cert: SecretRef, key: SecretRef }).optional(),
    })
    .refine(a => !!a.secret || !!a.certificate, {
      message: 'the ECE app needs `secret` or `certificate`',
    }),
  /** ecebot's own read-only app for Graph and Exchange admin reads (checks skip without it). */
  probe: z.strictObject({ clientId: Guid, secret: SecretRef }).optional(),
  /**
   * ecebot's own public-client app for `signin ENV MAILBOX` (device code, RFC 8628). Entra lets
   * only a public client (or an app with "Allow public client flows") use the device flow
   * without a secret: ECE's Web app is refused with AADSTS7000218 (o365-facts.md §2.3), so the
   * sign-in never uses it. No secret: a public client must not send one (AADSTS700025).
   */
  signin: z.strictObject({ clientId: Guid }).optional(),
  mailboxes: z.array(MailboxSchema).min(1, { message: 'list at least one mailbox' }),
  endpoints: EndpointsSchema.optional(),
  budget: BudgetSchema.optional(),
  /**
   * Teams allowed to see this environment: team ids as Teams sends them
   * (`channelData.team.id`, `19:…@thread.tacv2`) or the team's Entra group id (a GUID,
   * `channelData.team.aadGroupId`). Unset: every conversation of an allowed tenant.
   */
  teams: z
    .array(TeamRef)
    .min(1, { message: 'list at least one team, or leave `teams` out to allow every team' })
    .optional(),
  /**
   * Teams tenants whose users (and conversations) may see this environment: Entra tenant ids
   * as Teams sends them in `channelData.tenant.id`. Unset: only the environment's own tenant
   * (`tenant.id`), the customer's. An MSP whose people work from their own Teams tenant lists
   * it here (and the customer's too, if the customer's people use the bot as well).
   */
  tenants: z
    .array(
      z.string().regex(new RegExp(`^${GUID}$`), {
        message:
          'must be a Teams tenant id, a GUID like 00000000-0000-0000-0000-000000000000 (channelData.tenant.id; Entra admin center › Overview › Tenant ID), not a domain name',
      }),
    )
    .min(1, {
      message:
        "list at least one tenant id, or leave `tenants` out so only the environment's own tenant (tenant.id) sees it",
    })
    .optional(),
  /** On-call: escalation, reminders and maintenance windows of the alerts. */
  alerts: AlertsSchema.optional(),
  /** Webhooks that get this environment's alerts besides Teams (names unique). */
  webhooks: z
    .array(WebhookSchema)
    .min(1, { message: 'list at least one webhook, or leave `webhooks` out' })
    .refine(w => new Set(w.map(h => h.name)).size === w.length, {
      message: 'two webhooks have the same name: give each its own',
    })
    .optional(),
  /** Scheduled checks, e.g. `5m` (used by the queue). */
  schedule: z
    .strictObject({ every: z.string().regex(/^\d+[smhd]$/, { message: 'like 5m, 1h' }) })
    .optional(),
});

/** An environment, with the checks that span its fields. */
export const CheckedEnvironmentSchema = EnvironmentSchema.refine(
  e => !e.signin || e.signin.clientId.toLowerCase() !== e.app.clientId.toLowerCase(),
  {
    message:
      "signin.clientId is ECE's own app: ecebot's sign-in needs its own public-client app registration (docs/deployment.md), never ECE's production app",
    path: ['signin', 'clientId'],
  },
);

export const InventorySchema = z.strictObject({
  environments: z.record(
    z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, {
      message: 'environment names are lowercase letters, digits, - and _',
    }),
    CheckedEnvironmentSchema,
  ),
});

export type InventoryInput = z.infer<typeof InventorySchema>;
export type EnvironmentInput = z.infer<typeof EnvironmentSchema>;
export type MailboxInput = z.infer<typeof MailboxSchema>;
export type ServerInput = z.infer<typeof ServerSchema>;
