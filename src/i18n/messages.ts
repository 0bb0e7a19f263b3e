/**
 * ecebot's words in every language: the labels of the cards (run, help, environments,
 * history, errors, sharing, sign-in) and the status words. One table per language; `nl` is
 * typed as the English table, so the compiler refuses a key missing from either (or one with
 * other parameters). render/ and teams/ both read these; neither keeps a copy.
 */
import type { Status } from '../model';
import type { WindowProblem } from '../notify/windows';
import type { Lang, Text } from './lang';

/** The states an item shows on the run card: not started, in progress, or its finding's status. */
export type ItemState = 'pending' | 'running' | Status;

const STATE_WORDS: Record<ItemState, Text> = {
  pending: { en: 'waiting', nl: 'wacht' },
  running: { en: 'running', nl: 'bezig' },
  pass: { en: 'pass', nl: 'in orde' },
  warn: { en: 'warn', nl: 'waarschuwing' },
  fail: { en: 'fail', nl: 'fout' },
  skip: { en: 'skip', nl: 'overgeslagen' },
  error: { en: 'error', nl: 'mislukt' },
};

/** A status or progress word (`pass`, `fout`…). */
export function stateWord(s: ItemState, lang: Lang): string {
  return STATE_WORDS[s][lang];
}

/** Messages with parameters are functions; both languages have every key. */
const en = {
  // Run card
  environment: 'Environment',
  mailbox: 'Mailbox',
  release: 'ECE release',
  run: 'Run',
  started: 'Started',
  finished: 'Finished',
  requestedBy: 'Requested by',
  sharedBy: (who: string, when: string) => `Shared by ${who} on ${when}`,
  verdictPass: 'All checks passed',
  verdictWarn: 'Passed with warnings',
  verdictFail: 'Problems found',
  queued: 'Queued: waiting for a worker',
  running: (done: number, total: number) => `Running: ${done} of ${total} items done`,
  failedOn: (where: string) => `failed on ${where}`,
  rootCause: (item: string) => `root cause: ${item}`,
  whatToDo: 'What to do',
  noEvidence: '(no evidence recorded)',
  moreEvidence: (n: number) => `… ${n} more`,
  trimmed: 'details shortened to fit a Teams card',
  details: 'Details',
  show: 'Show',
  counts: (c: { fail: number; error: number; warn: number; skip: number; pass: number }) =>
    [
      c.fail ? `${c.fail} failed` : '',
      c.error ? `${c.error} could not be checked` : '',
      c.warn ? `${c.warn} ${c.warn === 1 ? 'warning' : 'warnings'}` : '',
      c.skip ? `${c.skip} skipped` : '',
      c.pass ? `${c.pass} passed` : '',
    ]
      .filter(Boolean)
      .join(', '),
  passedLine: (n: number, titles: string) => `${n} passed: ${titles}`,
  also: (what: string) => `Also: ${what}`,
  sameFix: 'same fix',
  took: (what: string) => `took ${what}`,
  footer: (run: string, when: string, by: string) =>
    [`Run ${run}`, when, by ? `requested by ${by}` : ''].filter(Boolean).join(' · '),
  rerun: 'Re-run',
  rerunFailed: 'Re-run failed items',
  share: 'Share',
  bundle: 'Support bundle',
  // Support bundle (the answer to its button, shown to the admin who pressed it only)
  bundleTitle: (run: string) => `Support bundle of run ${run}`,
  bundleReady: (minutes: number) =>
    `Download it with the button below: the link works once, for ${minutes} minutes, and is shown to you only. The zip holds the run, its transcripts, versions, the environment's inventory without secrets and its facts, redacted.`,
  bundleNoLink:
    'This bot has no download address (ECEBOT_PUBLIC_URL is not set): make the bundle where the bot runs, with the command below.',
  bundleCli: (cmd: string) => `On the bot's host: \`${cmd}\``,
  bundleDownload: 'Download the zip',
  backToRun: 'Back to the run',
  // Errors
  errorTitle: 'ecebot could not do that',
  empty: 'Type a command, for example `check prod`. `help` lists them all.',
  tooLong: (n: number, max: number) =>
    `That message is ${n} characters long; commands are at most ${max}.`,
  unknownCommand: (cmd: string) => `There is no command "${cmd}".`,
  didYouMean: (s: string) => `Did you mean **${s}**?`,
  missingArg: (arg: string) => `${arg} is missing.`,
  extraArgs: (extra: string) => `Too many arguments: "${extra}".`,
  unknownEnvironment: (name: string) => `There is no environment "${name}".`,
  knownEnvironments: (list: string) => `Environments: ${list}.`,
  noEnvironments: 'The inventory lists no environments.',
  unknownItem: (name: string) => `There is no checklist item "${name}".`,
  knownItems: (list: string) => `Items: ${list}.`,
  badDuration: (d: string) =>
    `"${d}" is not a duration: use minutes, hours or days like 30m, 4h, 2d (at most 30d), or off.`,
  unknownMailbox: (m: string, env: string) => `${env} has no mailbox "${m}".`,
  knownMailboxes: (list: string) => `Mailboxes: ${list}.`,
  unknownRun: (id: string) => `There is no run "${id}" (runs are kept for a while only).`,
  usage: (syntax: string) => `Usage: \`${syntax}\``,
  notAdmin: (cmd: string) => `Only ecebot admins may use ${cmd}.`,
  adminsUnset:
    'No ecebot admins are configured: the operator sets ECEBOT_ADMINS (Entra object ids) or ECEBOT_ADMIN_GROUPS (Entra group ids).',
  tenantRefused: (tenant: string) =>
    `This tenant is not allowed; ask the operator to add ${tenant} to ECEBOT_TENANTS.`,
  notHere: 'The environment of this run is not available in this conversation.',
  shareNotOffered:
    'That place is not offered for this run here; press Share again and pick one of the list.',
  inputError: (msg: string) => `The inventory does not allow this: ${msg}`,
  internalError: 'Something went wrong inside ecebot; the error is in its log.',
  busy: 'ecebot is busy; try again in a moment.',
  unknownAction: (verb: string) => `This card button (${verb}) is not known to this version.`,
  badAction: (verb: string, problem: string) =>
    `This card button (${verb}) sent data ecebot does not accept: ${problem}. Nothing was changed.`,
  badActionHint:
    'The card may come from another version of ecebot: ask again in chat (for example `check ENV` or `history ENV`) for a fresh card.',
  // Help
  helpTitle: 'ecebot commands',
  helpIntro:
    'Checks Cisco ECE mail on Office 365 (OAuth2) against Cisco’s troubleshooting checklist. Mention @ecebot in a channel. Schedules are set in the inventory file (`schedule.every`), not in chat.',
  adminOnly: 'admins',
  helpItems: 'Checklist items (check ENV ITEM)',
  // Environments, status, history
  envsTitle: 'Environments',
  servers: (n: number) => `${n} server${n === 1 ? '' : 's'}`,
  mailboxes: (n: number) => `${n} mailbox${n === 1 ? '' : 'es'}`,
  lastRun: (status: string, when: string) => `last run: ${status}, ${when}`,
  neverRun: 'no run yet',
  subscribed: 'alerts here',
  mutedUntil: (when: string) => `muted until ${when}`,
  statusTitle: 'Status',
  historyTitle: (env: string) => `History of ${env}`,
  noHistory: (env: string) => `No runs of ${env} yet. Try \`check ${env}\`.`,
  problems: (list: string) => `problems: ${list}`,
  allPassed: 'all passed',
  // Overview (all environments at a glance; likely Microsoft-side incidents)
  overviewTitle: (n: number) => `All environments (${n})`,
  noOverview: 'No environment is visible here.',
  ago: (minutes: number) =>
    minutes < 1
      ? 'just now'
      : minutes < 120
        ? `${minutes} min ago`
        : minutes < 48 * 60
          ? `${Math.floor(minutes / 60)} h ago`
          : `${Math.floor(minutes / 1440)} days ago`,
  overviewLast: (state: string, worst: string, age: string, when: string) =>
    `${state}${worst ? ` — ${worst}` : ''} · ${age} (${when})`,
  incidentHeading: (code: string) => `Likely Microsoft-side incident: ${code}`,
  incidentText: (o: { tenants: number; minutes: number; from: string; to: string; envs: string }) =>
    `The same code failed in ${o.tenants} tenants within ${o.minutes} minutes (${o.from} – ${o.to}), here in ${o.envs}. Check Microsoft 365 service health before changing the configuration.`,
  // Subscriptions
  subscribedTo: (env: string) =>
    `This conversation now gets a card when a scheduled check of ${env} starts failing, and when it recovers.`,
  alreadySubscribed: (env: string) => `This conversation already gets alerts for ${env}.`,
  unsubscribedFrom: (env: string) => `No more alerts for ${env} in this conversation.`,
  notSubscribed: (env: string) => `This conversation had no alerts for ${env}.`,
  mutedFor: (env: string, until: string) => `Alerts for ${env} are muted until ${until}.`,
  unmuted: (env: string) => `Alerts for ${env} are no longer muted.`,
  // On call (docs/on-call.md)
  mutedWindow: (env: string, from: string, to: string) =>
    `Alerts for ${env} are muted from ${from} to ${to}; the window ends by itself.`,
  unmutedWindows: (env: string) =>
    `Alerts for ${env} are no longer muted; maintenance windows typed in chat are removed too (the inventory's weekly windows stay).`,
  badWindow: (problem: string) =>
    `That is not a maintenance window: ${problem}. Write \`mute ENV from 2026-12-05T22:00 to 2026-12-06T02:00\`: ISO date and time, UTC unless it ends with an offset like +01:00 or Z.`,
  windowProblem: (p: WindowProblem, value: string) =>
    ({
      incomplete: 'give both times, from START to END',
      'no-to': `"to" must follow the start time, not "${value}"`,
      'bad-time': `"${value}" is not a date and time like 2026-12-05T22:00`,
      'end-before-start': 'the end is not after the start',
      'too-long': 'it is longer than 30 days (for longer, use unsubscribe)',
    })[p],
  windowOver: (to: string) => `That window is already over (it ended ${to}); nothing was changed.`,
  unknownAlert: 'This alert is not known here (alerts are kept 30 days); nothing was changed.',
  // Sharing
  shareTitle: 'Share this result',
  shareChoose: 'Post a snapshot of the card to:',
  shareNoTargets:
    'No channel to share to: subscribe a channel with `subscribe ENV`, or use ecebot in a team.',
  shareSend: 'Share',
  cancel: 'Cancel',
  sharedTo: (where: string) => `Shared to ${where}.`,
  shareFailed: (where: string) => `Could not post to ${where}; the bot may not be installed there.`,
  subscribedChannel: (env: string) => `subscribed to ${env}`,
  generalChannel: 'General',
  // Sign-in
  signinTitle: (mailbox: string) => `Sign in for ${mailbox}`,
  signinPrivate:
    'Open a **private** browser window (InPrivate / incognito), so the browser does not sign you in as yourself.',
  signinOpen: (url: string, code: string) => `Go to ${url} and enter the code **${code}**.`,
  signinAs: (account: string) =>
    `Sign in as **${account}**, not with your own account: a token issued for the engineer’s account is the classic fault (checklist item 4).`,
  signinAsShared: (account: string, mailbox: string) =>
    `Sign in as **${account}**, the account ECE uses for ${mailbox} (it needs Full Access to it), not with your own account (checklist item 4).`,
  signinExpires: (minutes: number) => `The code is valid for ${minutes} minutes.`,
  signinOpenButton: 'Open the sign-in page',
  signinWaiting: 'Waiting for the sign-in…',
  signinOkMailbox: (user: string) =>
    `Signed in as ${user}: the mailbox itself. ecebot keeps the refresh token (encrypted) for its end-to-end mail checks.`,
  signinOkShared: (user: string, mailbox: string) =>
    `Signed in as ${user}: the account the inventory names for ${mailbox}. ecebot keeps the refresh token (encrypted) for its end-to-end mail checks.`,
  signinOkFullAccess: (user: string, mailbox: string) =>
    `Signed in as ${user}, which Exchange Online lists with Full Access to ${mailbox}. ecebot keeps the refresh token (encrypted) for its end-to-end mail checks.`,
  signinWrongUser: (user: string, expected: string) =>
    `Signed in as ${user}, but this mailbox needs a token for ${expected}. The token was not kept; sign in again in a private window as ${expected}.`,
  signinUnknownUser: 'The token names no user; it was not kept.',
  signinFailed: (code: string, server: string) =>
    `The sign-in did not complete (${code}): ${server}`,
  signinNoRefresh: 'Entra returned no refresh token (was offline_access consented?).',
};

/** Every message ecebot shows, as the English table defines them. */
export type Messages = typeof en;

const nl: Messages = {
  environment: 'Omgeving',
  mailbox: 'Mailbox',
  release: 'ECE-release',
  run: 'Run',
  started: 'Gestart',
  finished: 'Klaar',
  requestedBy: 'Aangevraagd door',
  sharedBy: (who, when) => `Gedeeld door ${who} op ${when}`,
  verdictPass: 'Alle controles in orde',
  verdictWarn: 'In orde, met waarschuwingen',
  verdictFail: 'Problemen gevonden',
  queued: 'In de wachtrij: wacht op een worker',
  running: (done, total) => `Bezig: ${done} van ${total} items klaar`,
  failedOn: where => `fout op ${where}`,
  rootCause: item => `oorzaak: ${item}`,
  whatToDo: 'Wat te doen',
  noEvidence: '(geen bewijs vastgelegd)',
  moreEvidence: n => `… nog ${n}`,
  trimmed: 'details ingekort zodat de kaart in Teams past',
  details: 'Details',
  show: 'Toon',
  counts: c =>
    [
      c.fail ? `${c.fail} fout` : '',
      c.error ? `${c.error} niet te controleren` : '',
      c.warn ? `${c.warn} ${c.warn === 1 ? 'waarschuwing' : 'waarschuwingen'}` : '',
      c.skip ? `${c.skip} overgeslagen` : '',
      c.pass ? `${c.pass} in orde` : '',
    ]
      .filter(Boolean)
      .join(', '),
  passedLine: (n, titles) => `${n} in orde: ${titles}`,
  also: what => `Ook: ${what}`,
  sameFix: 'zelfde oplossing',
  took: what => `duurde ${what}`,
  footer: (run, when, by) =>
    [`Run ${run}`, when, by ? `aangevraagd door ${by}` : ''].filter(Boolean).join(' · '),
  rerun: 'Opnieuw',
  rerunFailed: 'Mislukte items opnieuw',
  share: 'Delen',
  bundle: 'Supportbundel',
  bundleTitle: run => `Supportbundel van run ${run}`,
  bundleReady: minutes =>
    `Download het met de knop hieronder: de link werkt één keer, ${minutes} minuten lang, en alleen jij ziet hem. De zip bevat de run, de transcripten, de versies, de inventaris van de omgeving zonder geheimen en de feiten, geredigeerd.`,
  bundleNoLink:
    'Deze bot heeft geen downloadadres (ECEBOT_PUBLIC_URL is niet ingesteld): maak de bundel waar de bot draait, met de opdracht hieronder.',
  bundleCli: cmd => `Op de host van de bot: \`${cmd}\``,
  bundleDownload: 'De zip downloaden',
  backToRun: 'Terug naar de run',
  errorTitle: 'ecebot kan dat niet doen',
  empty: 'Typ een opdracht, bijvoorbeeld `check prod`. `help` toont ze allemaal.',
  tooLong: (n, max) => `Dat bericht is ${n} tekens lang; opdrachten zijn hooguit ${max} tekens.`,
  unknownCommand: cmd => `Er is geen opdracht "${cmd}".`,
  didYouMean: s => `Bedoelde je **${s}**?`,
  missingArg: arg => `${arg} ontbreekt.`,
  extraArgs: extra => `Te veel argumenten: "${extra}".`,
  unknownEnvironment: name => `Er is geen omgeving "${name}".`,
  knownEnvironments: list => `Omgevingen: ${list}.`,
  noEnvironments: 'De inventaris bevat geen omgevingen.',
  unknownItem: name => `Er is geen checklist-item "${name}".`,
  knownItems: list => `Items: ${list}.`,
  badDuration: d =>
    `"${d}" is geen duur: gebruik minuten, uren of dagen zoals 30m, 4h, 2d (hooguit 30d), of off.`,
  unknownMailbox: (m, env) => `${env} heeft geen mailbox "${m}".`,
  knownMailboxes: list => `Mailboxen: ${list}.`,
  unknownRun: id => `Er is geen run "${id}" (runs worden maar een tijd bewaard).`,
  usage: syntax => `Gebruik: \`${syntax}\``,
  notAdmin: cmd => `Alleen ecebot-beheerders mogen ${cmd} gebruiken.`,
  adminsUnset:
    'Er zijn geen ecebot-beheerders ingesteld: de beheerder van de bot zet ECEBOT_ADMINS (Entra-object-id’s) of ECEBOT_ADMIN_GROUPS (Entra-groeps-id’s).',
  tenantRefused: tenant =>
    `Deze tenant is niet toegestaan; vraag de beheerder van de bot ${tenant} toe te voegen aan ECEBOT_TENANTS.`,
  notHere: 'De omgeving van deze run is in dit gesprek niet beschikbaar.',
  shareNotOffered:
    'Die plek wordt hier niet aangeboden voor deze run; druk opnieuw op Delen en kies er een uit de lijst.',
  inputError: msg => `De inventaris staat dit niet toe: ${msg}`,
  internalError: 'Er ging iets mis in ecebot; de fout staat in het logboek.',
  busy: 'ecebot heeft het druk; probeer het zo nog eens.',
  unknownAction: verb => `Deze knop (${verb}) kent deze versie niet.`,
  badAction: (verb, problem) =>
    `Deze knop (${verb}) stuurde gegevens die ecebot niet accepteert: ${problem}. Er is niets veranderd.`,
  badActionHint:
    'De kaart komt misschien van een andere versie van ecebot: vraag in de chat opnieuw (bijvoorbeeld `check ENV` of `history ENV`) om een nieuwe kaart.',
  helpTitle: 'ecebot-opdrachten',
  helpIntro:
    'Controleert Cisco ECE-mail op Office 365 (OAuth2) met de troubleshooting-checklist van Cisco. Noem @ecebot in een kanaal. Schema’s staan in het inventarisbestand (`schedule.every`), niet in de chat.',
  adminOnly: 'beheerders',
  helpItems: 'Onderdelen van de checklist (check ENV ITEM)',
  envsTitle: 'Omgevingen',
  servers: n => `${n} server${n === 1 ? '' : 's'}`,
  mailboxes: n => `${n} mailbox${n === 1 ? '' : 'en'}`,
  lastRun: (status, when) => `laatste run: ${status}, ${when}`,
  neverRun: 'nog geen run',
  subscribed: 'meldingen hier',
  mutedUntil: when => `gedempt tot ${when}`,
  statusTitle: 'Status',
  historyTitle: env => `Geschiedenis van ${env}`,
  noHistory: env => `Nog geen runs van ${env}. Probeer \`check ${env}\`.`,
  problems: list => `problemen: ${list}`,
  allPassed: 'alles in orde',
  overviewTitle: n => `Alle omgevingen (${n})`,
  noOverview: 'Hier is geen omgeving zichtbaar.',
  ago: minutes =>
    minutes < 1
      ? 'zojuist'
      : minutes < 120
        ? `${minutes} min geleden`
        : minutes < 48 * 60
          ? `${Math.floor(minutes / 60)} uur geleden`
          : `${Math.floor(minutes / 1440)} dagen geleden`,
  overviewLast: (state, worst, age, when) =>
    `${state}${worst ? ` — ${worst}` : ''} · ${age} (${when})`,
  incidentHeading: code => `Waarschijnlijk een storing bij Microsoft: ${code}`,
  incidentText: o =>
    `Dezelfde code faalde in ${o.tenants} tenants binnen ${o.minutes} minuten (${o.from} – ${o.to}), hier in ${o.envs}. Kijk eerst naar de servicestatus van Microsoft 365 (service health) voordat je de configuratie wijzigt.`,
  subscribedTo: env =>
    `Dit gesprek krijgt nu een kaart wanneer een geplande controle van ${env} begint te falen, en wanneer die herstelt.`,
  alreadySubscribed: env => `Dit gesprek krijgt al meldingen voor ${env}.`,
  unsubscribedFrom: env => `Geen meldingen meer voor ${env} in dit gesprek.`,
  notSubscribed: env => `Dit gesprek had geen meldingen voor ${env}.`,
  mutedFor: (env, until) => `Meldingen voor ${env} zijn gedempt tot ${until}.`,
  unmuted: env => `Meldingen voor ${env} zijn niet meer gedempt.`,
  mutedWindow: (env, from, to) =>
    `Meldingen voor ${env} zijn gedempt van ${from} tot ${to}; het venster eindigt vanzelf.`,
  unmutedWindows: env =>
    `Meldingen voor ${env} zijn niet meer gedempt; onderhoudsvensters uit de chat zijn ook verwijderd (de wekelijkse vensters uit de inventaris blijven).`,
  badWindow: problem =>
    `Dat is geen onderhoudsvenster: ${problem}. Schrijf \`mute ENV from 2026-12-05T22:00 to 2026-12-06T02:00\`: ISO-datum en -tijd, UTC tenzij er een verschil zoals +01:00 of Z achter staat.`,
  windowProblem: (p, value) =>
    ({
      incomplete: 'geef beide tijden, from BEGIN to EINDE',
      'no-to': `na de begintijd hoort "to", niet "${value}"`,
      'bad-time': `"${value}" is geen datum en tijd zoals 2026-12-05T22:00`,
      'end-before-start': 'het einde ligt niet na het begin',
      'too-long': 'het is langer dan 30 dagen (gebruik daarvoor unsubscribe)',
    })[p],
  windowOver: to => `Dat venster is al voorbij (het eindigde ${to}); er is niets veranderd.`,
  unknownAlert:
    'Deze melding is hier niet bekend (meldingen worden 30 dagen bewaard); er is niets veranderd.',
  shareTitle: 'Dit resultaat delen',
  shareChoose: 'Plaats een momentopname van de kaart in:',
  shareNoTargets:
    'Geen kanaal om in te delen: abonneer een kanaal met `subscribe ENV`, of gebruik ecebot in een team.',
  shareSend: 'Delen',
  cancel: 'Annuleren',
  sharedTo: where => `Gedeeld in ${where}.`,
  shareFailed: where =>
    `Plaatsen in ${where} lukte niet; misschien is de bot daar niet geïnstalleerd.`,
  subscribedChannel: env => `geabonneerd op ${env}`,
  generalChannel: 'Algemeen',
  signinTitle: mailbox => `Aanmelden voor ${mailbox}`,
  signinPrivate:
    'Open een **privévenster** (InPrivate / incognito), zodat de browser je niet als jezelf aanmeldt.',
  signinOpen: (url, code) => `Ga naar ${url} en voer de code **${code}** in.`,
  signinAs: account =>
    `Meld je aan als **${account}**, niet met je eigen account: een token voor het account van de engineer is de klassieke fout (checklist-item 4).`,
  signinAsShared: (account, mailbox) =>
    `Meld je aan als **${account}**, het account dat ECE voor ${mailbox} gebruikt (dat heeft Full Access nodig), niet met je eigen account (checklist-item 4).`,
  signinExpires: minutes => `De code is ${minutes} minuten geldig.`,
  signinOpenButton: 'Aanmeldpagina openen',
  signinWaiting: 'Wacht op de aanmelding…',
  signinOkMailbox: user =>
    `Aangemeld als ${user}: de mailbox zelf. ecebot bewaart het vernieuwingstoken (versleuteld) voor de end-to-end mailcontroles.`,
  signinOkShared: (user, mailbox) =>
    `Aangemeld als ${user}: het account dat de inventaris voor ${mailbox} noemt. ecebot bewaart het vernieuwingstoken (versleuteld) voor de end-to-end mailcontroles.`,
  signinOkFullAccess: (user, mailbox) =>
    `Aangemeld als ${user}, dat volgens Exchange Online Volledige toegang tot ${mailbox} heeft. ecebot bewaart het vernieuwingstoken (versleuteld) voor de end-to-end mailcontroles.`,
  signinWrongUser: (user, expected) =>
    `Aangemeld als ${user}, maar deze mailbox heeft een token voor ${expected} nodig. Het token is niet bewaard; meld je opnieuw aan in een privévenster als ${expected}.`,
  signinUnknownUser: 'Het token noemt geen gebruiker; het is niet bewaard.',
  signinFailed: (code, server) => `De aanmelding is niet voltooid (${code}): ${server}`,
  signinNoRefresh: 'Entra gaf geen vernieuwingstoken (is offline_access toegestaan?).',
};

const MESSAGES: Record<Lang, Messages> = { en, nl };

/** The message table for a language. */
export function messages(lang: Lang): Messages {
  return MESSAGES[lang];
}
