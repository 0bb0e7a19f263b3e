/**
 * The data of each card template in cards/: one interface per template, and the map from a
 * template's name to its data, so `expandCard('help', …)` takes help data and nothing else.
 * A template reads its data with `${…}` expressions; test/render/templates.test.ts checks that
 * every field a template reads is one its data provides. Plain strings and booleans only: an
 * empty string hides an optional line (`$when: "${x != ''}"`), so no field is ever missing.
 */

/** A card ready to send: an expanded template, Adaptive Card schema 1.5 (what Teams renders). */
export interface AdaptiveCard {
  [key: string]: unknown;
  type: 'AdaptiveCard';
  version: string;
  body: unknown[];
  actions?: unknown[];
}

/** One label and value of a FactSet. */
export interface CardFact {
  label: string;
  value: string;
}

/** One more remediation in a group's Details (the first one is on the card itself). */
export interface RunCardRemediation {
  text: string;
  /** The exact fix (monospace); empty when there is none. */
  fix: string;
  /** Markdown links joined with ` · `; empty when there are none. */
  links: string;
}

/**
 * One problem on the run card: an item that did not pass, with the items that fail because of
 * it (its root cause, or the very same fix) folded in, so each fix is shown once.
 */
export interface RunCardGroup {
  mark: string;
  /** TextBlock colour of the mark: Attention, Warning, Accent, Default. */
  color: string;
  title: string;
  summary: string;
  /** "Also: Connectivity (failed on services-1)"; empty when nothing is folded in. */
  also: string;
  /** What to do, in whole sentences, when there is no exact fix; empty otherwise. */
  text: string;
  /** The exact fix (monospace), never cut mid-word; empty when there is none. */
  fix: string;
  /** Whether the group has a Details part (and a Details toggle). */
  hasDetails: boolean;
  /** The id the group's Details toggle shows and hides. */
  detailsId: string;
  /** Details: where it failed and timings, one line each. */
  where: string[];
  /** Details: the lead remediation's links, then its whole text and the other remediations. */
  links: string;
  more: RunCardRemediation[];
  /** Details: the evidence lines (monospace). */
  evidence: string[];
}

/** Problems of one kind on one background: one padded box, not one per problem. */
export interface RunCardSection {
  style: 'attention' | 'warning' | 'default';
  groups: RunCardGroup[];
}

/** One passing item, listed when the passed line is toggled open. */
export interface RunCardPassed {
  title: string;
  summary: string;
}

/** The labels of the run card's buttons and toggles; the verbs are fixed in cards/run.json. */
export interface RunCardButtonLabels {
  details: string;
  show: string;
  rerun: string;
  rerunFailed: string;
  share: string;
  /** The support bundle (admins; in the card's overflow menu). */
  bundle: string;
}

/** Data for cards/run.json: a run in progress or finished. */
export interface RunCardData {
  /** The verdict first: "Problems found: 4 failed, 1 warning". */
  verdictText: string;
  verdictColor: string;
  /** The items of a partial run, under the verdict; empty for a full run. */
  subtitle: string;
  /** "Shared by … on …" on a snapshot; empty otherwise. */
  sharedText: string;
  /**
   * The items that did not pass, worst first, in one coloured section per kind (failed and
   * errored on red, warnings on amber, skipped plain); while running, every item, plain.
   */
  sections: RunCardSection[];
  /** "4 passed: Version, License, …"; empty when nothing passed. */
  passedText: string;
  passed: RunCardPassed[];
  /** Release, run id, time (rendered in the reader's locale by Teams) and who asked. */
  footer: string;
  done: boolean;
  runId: string;
  environment: string;
  /** The items a Re-run covers, comma-separated; empty for all. */
  runItems: string;
  /** The failed items, comma-separated; empty hides "Re-run failed items". */
  failedItems: string;
  note: string;
  labels: RunCardButtonLabels;
}

/** Data for cards/help.json. */
export interface HelpCardData {
  title: string;
  intro: string;
  commands: { syntax: string; description: string; note: string }[];
  /** Heading of the item list. */
  itemsTitle: string;
  /** Every checklist item, from the item declarations. */
  items: { id: string; title: string }[];
}

/** One environment row of cards/environments.json. */
export interface EnvironmentCardRow {
  mark: string;
  color: string;
  name: string;
  description: string;
  facts: string;
  status: string;
}

/** Data for cards/environments.json (`envs`, `status`). */
export interface EnvironmentsCardData {
  title: string;
  empty: string;
  environments: EnvironmentCardRow[];
}

/** A likely Microsoft-side incident on cards/overview.json. */
export interface OverviewCardIncident {
  heading: string;
  text: string;
}

/** One environment row of cards/overview.json. */
export interface OverviewCardRow {
  mark: string;
  color: string;
  name: string;
  description: string;
  /** State, worst item and age of the last run, in one line. */
  status: string;
}

/** Data for cards/overview.json (`overview`). */
export interface OverviewCardData {
  title: string;
  empty: string;
  incidents: OverviewCardIncident[];
  environments: OverviewCardRow[];
}

/** One run of cards/history.json; selecting it shows the run (`showRun`). */
export interface HistoryCardRun {
  id: string;
  mark: string;
  color: string;
  when: string;
  text: string;
}

/** Data for cards/history.json. */
export interface HistoryCardData {
  title: string;
  empty: string;
  runs: HistoryCardRun[];
  /** Whether the uptime and charts show (a history report was at hand; docs/history.md). */
  showChart: boolean;
  chart: HistoryChartData;
}

/**
 * The uptime line and charts of cards/history.json (src/history/card.ts): a `Chart.Line` of
 * uptime per day and a `Chart.VerticalBar` of uptime per item, each with a text fallback.
 */
export interface HistoryChartData {
  uptime: string;
  title: string;
  xAxis: string;
  yAxis: string;
  legend: string;
  /** Uptime per day: x `YYYY-MM-DD`, y percent. */
  points: { x: string; y: number }[];
  /** Fallback: a label and the newest runs' marks, oldest first. */
  marksLabel: string;
  marks: string;
  /** Fallback: uptime per day as a table. */
  days: { title: string; value: string }[];
  showItems: boolean;
  itemsTitle: string;
  itemsX: string;
  /** Uptime per item: x the item id, y percent. */
  items: { x: string; y: number }[];
  /** Fallback: uptime per item as a table. */
  itemFacts: { title: string; value: string }[];
}

/** Data for cards/error.json. */
export interface ErrorCardData {
  title: string;
  message: string;
  hints: string[];
}

/** Data for cards/notice.json. */
export interface NoticeCardData {
  title: string;
  text: string;
  style: 'good' | 'default' | 'warning';
}

/** Data for cards/signin.json. */
export interface SigninCardData {
  title: string;
  facts: CardFact[];
  waiting: boolean;
  steps: string[];
  code: string;
  url: string;
  openLabel: string;
  status: string;
  statusStyle: 'default' | 'good' | 'attention';
  statusColor: 'Default' | 'Good' | 'Attention';
}

/** One choice of the share picker: what it shows, and the encoded target it sends back. */
export interface ShareChoice {
  title: string;
  value: string;
}

/** Data for cards/share-picker.json. */
export interface SharePickerCardData {
  title: string;
  run: string;
  empty: string;
  choose: string;
  /** The value chosen at first (the first choice's). */
  first: string;
  targets: ShareChoice[];
  sendLabel: string;
  cancelLabel: string;
  /** Cancel goes back to the run card, or dismisses a picker posted by `share RUN`. */
  cancelVerb: 'showRun' | 'dismiss';
  runId: string;
  back: 'run' | 'notice';
}

/** Each template in cards/ by name, with the data it is expanded with. */
export interface CardTemplates {
  run: RunCardData;
  help: HelpCardData;
  environments: EnvironmentsCardData;
  history: HistoryCardData;
  error: ErrorCardData;
  notice: NoticeCardData;
  signin: SigninCardData;
  'share-picker': SharePickerCardData;
  overview: OverviewCardData;
}

/** A template's name: its file cards/NAME.json. */
export type TemplateName = keyof CardTemplates;

/** Every template name (the test checks this is exactly the files in cards/). */
export const TEMPLATE_NAMES = [
  'run',
  'help',
  'environments',
  'history',
  'error',
  'notice',
  'signin',
  'share-picker',
  'overview',
] as const satisfies readonly TemplateName[];

// Compiles only when the list names every template: a name added to CardTemplates alone fails
// here with the missing name as the type.
type Unlisted = Exclude<TemplateName, (typeof TEMPLATE_NAMES)[number]>;
const _everyTemplateListed: [Unlisted] extends [never] ? true : Unlisted = true;
void _everyTemplateListed;

/**
 * Whether a value has the root of an Adaptive Card: what a card read back from storage (the
 * alert outbox keeps messages in Redis) must have before it is sent as one.
 */
export function isAdaptiveCard(card: unknown): card is AdaptiveCard {
  const c = card as Partial<AdaptiveCard> | null | undefined;
  return (
    typeof c === 'object' &&
    c !== null &&
    c.type === 'AdaptiveCard' &&
    typeof c.version === 'string' &&
    Array.isArray(c.body)
  );
}
