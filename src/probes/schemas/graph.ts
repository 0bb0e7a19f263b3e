/**
 * Schemas of the Microsoft Graph v1.0 replies ecebot reads (o365-facts.md §3.1–§3.4). Only the
 * fields a rule, forecast or Teams feature judges are named; every other field Graph sends (and
 * Microsoft adds fields) is accepted and dropped. The types of the named fields are strict: a
 * reply that has them in another type is not understood rather than guessed at.
 *
 * Types and nullability follow Graph's resource pages (learn.microsoft.com/graph/api/resources/
 * application, passwordcredential, keycredential, serviceprincipal, permissionscope,
 * oauth2permissiongrant, licensedetails, serviceplaninfo, signin): strings Graph may send as
 * `null` accept null; DateTimeOffset values are ISO 8601 with a zone ("always in UTC time",
 * e.g. `2014-01-01T00:00:00Z`; Graph also sends 7 fractional digits, `2019-09-17T19:10:35.2742618Z`).
 */
import { z } from 'zod';
import type {
  GraphApplication,
  GraphCredential,
  GraphDirectoryUser,
  GraphFacts,
  GraphLicenseDetail,
  GraphPermissionGrant,
  GraphResource,
  GraphResourceServicePrincipal,
  GraphServicePrincipal,
  GraphSignIn,
} from '../../model';
import type { Assert, Same } from './same';

/** Graph's DateTimeOffset: ISO 8601 with `Z` or an offset. */
const dateTime = z.iso.datetime({ offset: true });

/** passwordCredential and keyCredential share the fields judged for expiry. */
const credential = z.object({
  displayName: z.string().nullish(),
  keyId: z.string().nullish(),
  startDateTime: dateTime.nullish(),
  endDateTime: dateTime.nullish(),
});

const redirects = z.object({ redirectUris: z.array(z.string()).optional() });

/** The app registration (GET /applications?$filter=appId eq …&$select=…, §3.1). */
export const application = z.object({
  id: z.string().optional(),
  appId: z.string().optional(),
  web: redirects.nullish(),
  spa: redirects.nullish(),
  publicClient: redirects.nullish(),
  passwordCredentials: z.array(credential).optional(),
  keyCredentials: z.array(credential).optional(),
  requiredResourceAccess: z
    .array(
      z.object({
        resourceAppId: z.string(),
        resourceAccess: z.array(z.object({ id: z.string(), type: z.string() })),
      }),
    )
    .optional(),
});

/** The ECE app's service principal: its object id names it in consent grants (§3.2). */
export const servicePrincipal = z.object({ id: z.string(), appId: z.string().optional() });

/** A resource's service principal with its delegated permissions (permissionScope: id, value). */
export const resourceServicePrincipal = z.object({
  appId: z.string().optional(),
  oauth2PermissionScopes: z
    .array(z.object({ id: z.string(), value: z.string().nullish() }))
    .optional(),
});

/** oAuth2PermissionGrant: consentType is required by Graph; principalId is null for admin consent. */
export const permissionGrant = z.object({
  consentType: z.string(),
  scope: z.string().nullish(),
  principalId: z.string().nullish(),
});

/** licenseDetails with its servicePlans (servicePlanInfo), §3.3. */
export const licenseDetail = z.object({
  skuId: z.string().nullish(),
  skuPartNumber: z.string().nullish(),
  servicePlans: z.array(
    z.object({
      servicePlanId: z.string().nullish(),
      servicePlanName: z.string().nullish(),
      provisioningStatus: z.string().nullish(),
    }),
  ),
});

/**
 * signIn (beta): when, who, which app, the AADSTS number in status.errorCode (§3.4), and what
 * tells ECE's own redemptions apart: isInteractive and signInEventTypes (`interactiveUser`,
 * `nonInteractiveUser`, …), the client's ipAddress, and the authentication steps
 * (authenticationDetails[].authenticationMethod, e.g. "Password"). Types per the beta signIn
 * resource page (learn.microsoft.com/graph/api/resources/signin?view=graph-rest-beta).
 */
export const signIn = z.object({
  createdDateTime: dateTime,
  userPrincipalName: z.string().nullish(),
  appId: z.string().nullish(),
  status: z.object({ errorCode: z.number().int(), failureReason: z.string().nullish() }).nullish(),
  isInteractive: z.boolean().nullish(),
  signInEventTypes: z.array(z.string()).nullish(),
  ipAddress: z.string().nullish(),
  userAgent: z.string().nullish(),
  authenticationDetails: z
    .array(
      z.object({
        authenticationMethod: z.string().nullish(),
        succeeded: z.boolean().nullish(),
      }),
    )
    .nullish(),
});

/**
 * A user with the names Exchange knows them by (user resource: userPrincipalName, mail,
 * proxyAddresses — "SMTP:" marks the primary address, "smtp:" the others; mail and
 * proxyAddresses are null/empty for a user without a mailbox).
 */
export const directoryUser = z.object({
  id: z.string().nullish(),
  userPrincipalName: z.string().nullish(),
  mail: z.string().nullish(),
  proxyAddresses: z.array(z.string()).optional(),
});

/** Graph's collection envelope, `{"@odata.context": …, "value": [ … ]}`. */
function collection<T extends z.ZodType>(item: T) {
  return z.object({ value: z.array(item) });
}

/** The reply schema of each read: every read ecebot makes is a collection (a filter or a list). */
export const GRAPH_REPLY = {
  application: collection(application),
  servicePrincipal: collection(servicePrincipal),
  resourceServicePrincipal: collection(resourceServicePrincipal),
  grants: collection(permissionGrant),
  licenseDetails: collection(licenseDetail),
  signIns: collection(signIn),
  directoryUsers: collection(directoryUser),
} satisfies Record<GraphResource, z.ZodType>;

// The schemas yield exactly the fact types the rules read (src/model/observations.ts): a field added
// on one side only fails the type check here.
/** Compiles only while every Graph schema yields its declared fact type. */
export type GraphSchemasMatchTypes = [
  Assert<Same<z.output<typeof credential>, GraphCredential>>,
  Assert<Same<z.output<typeof application>, GraphApplication>>,
  Assert<Same<z.output<typeof servicePrincipal>, GraphServicePrincipal>>,
  Assert<Same<z.output<typeof resourceServicePrincipal>, GraphResourceServicePrincipal>>,
  Assert<Same<z.output<typeof permissionGrant>, GraphPermissionGrant>>,
  Assert<Same<z.output<typeof licenseDetail>, GraphLicenseDetail>>,
  Assert<Same<z.output<typeof signIn>, GraphSignIn>>,
  Assert<Same<z.output<typeof directoryUser>, GraphDirectoryUser>>,
  Assert<Same<{ [R in GraphResource]: z.output<(typeof GRAPH_REPLY)[R]>['value'] }, GraphItems>>,
];

/** One element of each read's collection. */
type GraphItems = {
  [R in GraphResource]: GraphFacts[R] extends (infer E)[] ? E[] : GraphFacts[R][];
};
