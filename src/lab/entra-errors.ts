/**
 * The lab's Entra ID error texts: for each AADSTS number the lab answers, the OAuth `error`
 * string, the HTTP status and the sentence Entra puts after `AADSTS<n>: `. The sentences follow
 * Microsoft's wording as customers report it (o365-facts.md §2.3; msal-lab-notes.md §3), because
 * people recognise an error by its text and ecebot shows the server's own words as evidence.
 * Rules never read these texts: they match on the number (src/knowledge/codes.ts).
 */
import { randomUUID } from 'node:crypto';

/** Values a text can mention; each text uses the ones it needs. */
export interface AadstsParams {
  appId?: string;
  appName?: string;
  /** The tenant as the request named it (id or domain). */
  tenant?: string;
  redirectUri?: string;
  scope?: string;
  upn?: string;
  resource?: string;
  grantType?: string;
  /** A missing request parameter's name. */
  param?: string;
  /** HTTP method, for the "only accepts POST" answer. */
  method?: string;
  /** When the grant was issued (ISO date), for the refresh-token texts. */
  issuedAt?: string;
}

/** How Entra answers one AADSTS number. */
export interface AadstsEntry {
  /** The OAuth 2.0 `error` value (RFC 6749 §5.2, RFC 8628 §3.5). */
  error: string;
  /** HTTP status: 401 for a failed client authentication (RFC 6749 §5.2), 400 otherwise. */
  status: number;
  text: (p: AadstsParams) => string;
}

const q = (v: string | undefined, fallback = '') => v ?? fallback;

/** Every AADSTS number the lab can answer. Unknown numbers (a scenario's `failWith`) get a generic entry. */
export const AADSTS: Record<number, AadstsEntry> = {
  50011: {
    error: 'invalid_request',
    status: 400,
    text: p =>
      `The redirect URI '${q(p.redirectUri)}' specified in the request does not match the redirect URIs configured for the application '${q(p.appId)}'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal. Navigate to https://aka.ms/redirectUriMismatchError to learn more about how to fix this.`,
  },
  50034: {
    error: 'invalid_grant',
    status: 400,
    text: p =>
      `The user account ${q(p.upn)} does not exist in the '${q(p.tenant)}' directory. To sign into this application, the account must be added to the directory.`,
  },
  50057: {
    error: 'invalid_grant',
    status: 400,
    text: () => 'The user account is disabled.',
  },
  50059: {
    error: 'invalid_request',
    status: 400,
    text: () =>
      'No tenant-identifying information found in either the request or implied by any provided credentials.',
  },
  50076: {
    error: 'invalid_grant',
    status: 400,
    text: p =>
      `Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access '${q(p.resource, '00000002-0000-0ff1-ce00-000000000000')}'.`,
  },
  50173: {
    error: 'invalid_grant',
    status: 400,
    text: p =>
      `The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password. The grant was issued on '${q(p.issuedAt)}' and the TokensValidFrom date (before which tokens are not valid) for this user is '${new Date().toISOString()}'.`,
  },
  50194: {
    error: 'invalid_request',
    status: 400,
    text: p =>
      `Application '${q(p.appId)}'(${q(p.appName)}) is not configured as a multi-tenant application. Usage of the /common endpoint is not supported for such applications created after '10/15/2018'. Use a tenant-specific endpoint or configure the application to be multi-tenant.`,
  },
  53003: {
    error: 'invalid_grant',
    status: 400,
    text: () =>
      'Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.',
  },
  54005: {
    error: 'invalid_grant',
    status: 400,
    text: () =>
      'OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.',
  },
  65001: {
    error: 'invalid_grant',
    status: 400,
    text: p =>
      `The user or administrator has not consented to use the application with ID '${q(p.appId)}' named '${q(p.appName)}'. Send an interactive authorization request for this user and resource.`,
  },
  // Entra's generic invalid_grant. The lab also uses it for a device code the person declined,
  // whose AADSTS number Microsoft does not document; clients branch on `error` there anyway
  // (RFC 8628 §3.5, msal-lab-notes.md §3).
  70000: {
    error: 'invalid_grant',
    status: 400,
    text: () => 'Provided grant is invalid or malformed.',
  },
  70003: {
    error: 'unsupported_grant_type',
    status: 400,
    text: p => `The app requested an unsupported grant type '${q(p.grantType)}'.`,
  },
  70008: {
    error: 'invalid_grant',
    status: 400,
    text: () =>
      'The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.',
  },
  70011: {
    error: 'invalid_scope',
    status: 400,
    text: p =>
      `The provided value for the input parameter 'scope' is not valid. One or more scopes in '${q(p.scope)}' are not compatible with each other.`,
  },
  70016: {
    error: 'authorization_pending',
    status: 400,
    text: () =>
      'The provided request has not yet been authorized by the user. The user must input their code.',
  },
  70019: {
    error: 'expired_token',
    status: 400,
    text: () => 'Verification code expired.',
  },
  70043: {
    error: 'invalid_grant',
    status: 400,
    text: p =>
      `The refresh token has expired or is invalid due to sign-in frequency checks by conditional access. The token was issued on ${q(p.issuedAt)} and the maximum allowed lifetime for this request is 43200.`,
  },
  500011: {
    error: 'invalid_resource',
    status: 400,
    text: p =>
      `The resource principal named ${q(p.resource)} was not found in the tenant named ${q(p.tenant)}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`,
  },
  700016: {
    error: 'unauthorized_client',
    status: 400,
    text: p =>
      `Application with identifier '${q(p.appId)}' was not found in the directory '${q(p.tenant)}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
  },
  700082: {
    error: 'invalid_grant',
    status: 400,
    text: p =>
      `The refresh token has expired due to inactivity. The token was issued on ${q(p.issuedAt)} and was inactive for 90.00:00:00.`,
  },
  900144: {
    error: 'invalid_request',
    status: 400,
    text: p => `The request body must contain the following parameter: '${q(p.param)}'.`,
  },
  900561: {
    error: 'invalid_request',
    status: 400,
    text: p =>
      `The endpoint only accepts POST, OPTIONS requests. Received a ${q(p.method, 'GET')} request.`,
  },
  1002012: {
    error: 'invalid_scope',
    status: 400,
    text: p =>
      `The provided value for scope ${q(p.scope)} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
  },
  7000215: {
    error: 'invalid_client',
    status: 401,
    text: p =>
      `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${q(p.appId)}'.`,
  },
  7000218: {
    error: 'invalid_client',
    status: 401,
    text: () =>
      "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
  },
  // "Client is public so neither 'client_assertion' nor 'client_secret' should be presented."
  // (harishkrupo/oauth2ms #19; o365-facts.md §2.3, 700025).
  700025: {
    error: 'invalid_client',
    status: 401,
    text: () =>
      "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.",
  },
  // Certificate credentials (learn.microsoft.com/entra/identity-platform/certificate-credentials):
  // an unknown thumbprint or a bad signature (AzureAD/passport-azure-ad #453), an assertion
  // outside its time range (o365-facts.md §2.3, 700024), an audience that is not this tenant's
  // token endpoint (AzureAD/azure-activedirectory-library-for-python #79).
  700027: {
    error: 'invalid_client',
    status: 401,
    text: p =>
      `Client assertion contains an invalid signature. [Reason - The key was not found., Thumbprint of key used by client: '${q(p.param)}', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '${q(p.appId)}'.]`,
  },
  700024: {
    error: 'invalid_client',
    status: 401,
    text: () => 'Client assertion is not within its valid time range.',
  },
  50012: {
    error: 'invalid_client',
    status: 401,
    text: () => 'Client assertion audience claim does not match Realm issuer.',
  },
  7000222: {
    error: 'invalid_client',
    status: 401,
    text: p =>
      `The provided client secret keys for app '${q(p.appId)}' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.`,
  },
  90002: {
    error: 'invalid_tenant',
    status: 400,
    text: p =>
      `Tenant '${q(p.tenant)}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`,
  },
};

/** The entry for `code`, or a generic invalid_grant for numbers the lab has no text for. */
export function aadstsEntry(code: number): AadstsEntry {
  return (
    AADSTS[code] ?? {
      error: 'invalid_grant',
      status: 400,
      text: () => 'The request was refused by the simulated tenant.',
    }
  );
}

/** Entra's timestamp format in error bodies: `2016-01-09 02:02:12Z` (o365-facts.md §2.2). */
export function entraTimestamp(at: Date = new Date()): string {
  return at
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z');
}

/** The JSON body Entra's token endpoint answers an error with (o365-facts.md §2.2). */
export interface EntraErrorBody {
  error: string;
  error_description: string;
  error_codes: number[];
  timestamp: string;
  trace_id: string;
  correlation_id: string;
  error_uri: string;
}

/**
 * Build the error body for `code`. `correlationId` is the client's `client-request-id` when it
 * sent one (Entra echoes it), so a person can match the lab's answer to the client's log.
 */
export function entraErrorBody(
  code: number,
  params: AadstsParams,
  correlationId: string = randomUUID(),
): { status: number; body: EntraErrorBody } {
  const entry = aadstsEntry(code);
  const traceId = randomUUID();
  const timestamp = entraTimestamp();
  return {
    status: entry.status,
    body: {
      error: entry.error,
      error_description: `AADSTS${code}: ${entry.text(params)}\r\nTrace ID: ${traceId}\r\nCorrelation ID: ${correlationId}\r\nTimestamp: ${timestamp}`,
      error_codes: [code],
      timestamp,
      trace_id: traceId,
      correlation_id: correlationId,
      // Microsoft's public lookup page for the number (o365-facts.md §2.1 "Error lookup").
      error_uri: `https://login.microsoftonline.com/error?code=${code}`,
    },
  };
}

/** `AADSTS<n>: <text>` for pages that show the error to a person (the sign-in page). */
export function aadstsLine(code: number, params: AadstsParams): string {
  return `AADSTS${code}: ${aadstsEntry(code).text(params)}`;
}
