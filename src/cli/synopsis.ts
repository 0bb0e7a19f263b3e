/**
 * Each command's synopsis and options, in one table: `ecebot help CMD` and `ecebot CMD --help`
 * print the synopsis, and an option a command does not have is refused before the command
 * runs, with the closest one it does have (as git and npm do). Kept apart from src/cli.ts so
 * the table is read without loading any command.
 */
import { suggest } from '../inventory/load';

/** `ecebot probe`'s usage (./probe-command.ts prints it too). */
export const PROBE_USAGE = `Usage: ecebot probe imap|pop3|smtp|tls|https [options]

  --host NAME         server to talk to (https: or give the URL as an argument / --url)
  --port N            default 993 imap, 995 pop3, 587 smtp, 443 tls/https (587 with --starttls)
  --user ADDRESS      mailbox for imap/pop3/smtp (the XOAUTH2 user=)
  --token TOKEN       access token (visible in the process list: prefer the next two)
  --token-file FILE   read the access token from FILE
                      (or set ECEBOT_TOKEN in the environment)
  --ca FILE           extra CA certificate (PEM) to trust, e.g. the lab CA
  --starttls          tls: upgrade with SMTP STARTTLS first, as on port 587
  --resolve NAME=IP   connect to IP for NAME, like a hosts file (repeatable)
  --timeout MS        total deadline for the probe (phases get at most this much too)
  --select FOLDER     imap: folder to open read-only (default INBOX)
  --send-to ADDRESS   smtp: also send a small test message (X-ECEbot-Test: 1) to ADDRESS
  --url URL           https: the URL to GET
  --json              print one JSON line {protocol, ok, code, stage, server, ms, steps}

Exit codes: 0 OK, 1 the probe failed, 2 bad input.`;

/** A command's usage: its synopsis, and its options as they are typed (`--json`, `-c`). */
export interface CommandUsage {
  synopsis: string;
  options: string[];
}

const FAULT_KINDS =
  'refuse, blackhole, slow, wrong-cert, expired-cert, trickle, garbage, huge-list [imap], huge-greeting [smtp]';

/** Every command of the CLI, with its usage. */
export const USAGES: Record<string, CommandUsage> = {
  check: {
    synopsis: `Usage: ecebot check ENV [--config FILE] [--item ID]... [--json] [--details] [--local]

  Runs the checklist against environment ENV of the inventory.
  --config FILE  inventory file or folder (else $ECEBOT_CONFIG, else ./ecebot.yaml)
  --item ID      only this item (repeatable)
  --json         the run as one JSON document on stdout
  --details      evidence and transcripts under each item that is not passing
  --local        every vantage point in this process, even with $REDIS_URL set`,
    options: ['--config', '-c', '--item', '--json', '--details', '--local'],
  },
  probe: {
    synopsis: PROBE_USAGE,
    options: [
      '--host',
      '--port',
      '--user',
      '--token',
      '--token-file',
      '--ca',
      '--starttls',
      '--json',
      '--resolve',
      '--timeout',
      '--select',
      '--send-to',
      '--url',
    ],
  },
  worker: {
    synopsis: `Usage: ecebot worker --vantage ENV/SERVER|central [--config FILE]

  Runs the probes of one vantage point (an ECE server of environment ENV, or central) from the
  queue ($REDIS_URL).`,
    options: ['--vantage', '--config', '-c'],
  },
  assembler: {
    synopsis: `Usage: ecebot assembler [--config FILE]

  Assembles queued runs where no bot runs; needs $REDIS_URL and the full inventory.`,
    options: ['--config', '-c'],
  },
  token: {
    synopsis: `Usage: ecebot token delete ENV MAILBOX

  Removes the refresh tokens ecebot keeps for MAILBOX of environment ENV (its sign-in token and
  its kept successor of ECE's grant) from the store; needs $REDIS_URL. Never prints a token.`,
    options: [],
  },
  bundle: {
    synopsis: `Usage: ecebot bundle RUN_ID [--out FILE] [--force] [--config FILE]

  Writes the support bundle of a stored run: a zip with the run, its transcripts, the
  versions, the environment's inventory without secrets and its facts, all redacted, and a
  manifest of what was redacted (counts only). Needs $REDIS_URL (where the bot keeps runs).
  --out FILE     where to write it (default ./ecebot-RUN_ID.zip); an existing file is kept
  --force        replace FILE when it exists
  --config FILE  inventory file or folder (else $ECEBOT_CONFIG, else ./ecebot.yaml)`,
    options: ['--out', '-o', '--force', '--config', '-c'],
  },
  history: {
    synopsis: `Usage: ecebot history ENV [--item ID] [--since SPAN] [--json | --csv]

  The runs of environment ENV the bot and the assembler recorded in Redis ($REDIS_URL), with
  the uptime over the window: runs that passed or warned / runs that passed, warned or failed
  (skipped and errored runs are not counted; the output says how many). docs/history.md.
  --item ID     one checklist item instead of the environment
  --since SPAN  the window, back from now: 24h, 7d, 30d, 2w (default 7d)
  --json        the report as one JSON document
  --csv         the runs as CSV (RFC 4180), one row per run, oldest first`,
    options: ['--item', '--since', '--json', '--csv'],
  },
  lab: {
    synopsis: `Usage: ecebot lab [--scenario NAME[,NAME...]] [--fault VANTAGE:ENDPOINT:KIND[:MS]]... [--latency MS] [--json] [--dir DIR] [--list]

  Starts simulated Office 365 and ECE servers on 127.0.0.1 until Ctrl-C, and prints how to
  check and probe them.
  --scenario NAMES  what to break (ecebot lab --list shows them)
  --fault SPEC      a network fault; kinds: ${FAULT_KINDS}; MS goes with slow and trickle
  --json            the lab's endpoints, CA, inventory and scenarios as one JSON document
  --dir DIR         keep the lab's files (inventory, CA, secrets) in DIR
  --latency MS      a one-way delay in front of every endpoint (25ms: 50 ms round trips)
  --list            list the scenarios`,
    options: ['--scenario', '-s', '--fault', '--latency', '--json', '--dir', '--list'],
  },
  demo: {
    synopsis: `Usage: ecebot demo [--out DIR] [--json]

  Starts the lab with the demo scenarios, checks it, prints the result and writes the Teams
  card the bot would post (DIR/run-card.json, default ./demo-output).
  --json  the run as one JSON document on stdout (progress goes to stderr)`,
    options: ['--out', '--json'],
  },
  serve: {
    synopsis: `Usage: ecebot serve [--config FILE] [--port N]

  The Teams bot (MicrosoftAppId and the rest from the environment; see docs/deployment.md).`,
    options: ['--config', '-c', '--port', '-p'],
  },
  help: { synopsis: 'Usage: ecebot help [COMMAND]', options: [] },
  version: { synopsis: 'Usage: ecebot version', options: [] },
};

/** The command names, in the order the usage lists them. */
export const COMMAND_NAMES = Object.keys(USAGES);

/** Whether the arguments ask for help (`--help`, `-h`) before any `--`. */
export function asksForHelp(argv: readonly string[]): boolean {
  for (const a of argv) {
    if (a === '--') return false;
    if (a === '--help' || a === '-h') return true;
  }
  return false;
}

/**
 * The first option `argv` gives that `command` does not have, with the closest one it has; a
 * value after `--` is not an option.
 */
export function unknownOption(
  command: string,
  argv: readonly string[],
): { option: string; closest?: string } | undefined {
  const usage = USAGES[command];
  if (!usage) return undefined;
  for (const a of argv) {
    if (a === '--') return undefined;
    if (!a.startsWith('-') || a === '-' || /^-\d/.test(a)) continue;
    const option = a.startsWith('--') ? a.split('=')[0]! : a.slice(0, 2);
    if (usage.options.includes(option)) continue;
    const closest = suggest(
      option,
      usage.options.filter(o => o.startsWith('--')),
    );
    return { option, ...(closest ? { closest } : {}) };
  }
  return undefined;
}
