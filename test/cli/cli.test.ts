import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ecebot, ecebotFirstLine, ROOT } from './support';

describe('ecebot CLI: bad input exits 2 and says what and where', () => {
  test('unknown command suggests the closest', async () => {
    const r = await ecebot(['chek']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown command "chek".*\n.*did you mean check\?/);
  });

  test('check without an environment', async () => {
    const r = await ecebot(['check', '--config', 'examples/inventory.yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/check needs an environment name/);
  });

  test('unknown environment and unknown item', async () => {
    const env = await ecebot(['check', 'prd', '--config', 'examples/inventory.yaml']);
    expect(env.code).toBe(2);
    expect(env.stderr).toMatch(/unknown environment "prd".*\n.*did you mean prod\?/);
    const item = await ecebot([
      'check',
      'prod',
      '--config',
      'examples/inventory.yaml',
      '--item',
      'netwrok',
    ]);
    expect(item.code).toBe(2);
    expect(item.stderr).toMatch(/unknown checklist item "netwrok".*\n.*did you mean network\?/);
  });

  test('a missing secret names the variable, file and line, and nothing runs', async () => {
    const r = await ecebot(['check', 'prod', '--config', 'examples/inventory.yaml'], {
      env: { ECE_APP_SECRET: '' },
    });
    expect(r.code).toBe(2);
    const example = join(ROOT, 'examples', 'inventory.yaml');
    const line =
      readFileSync(example, 'utf8')
        .split('\n')
        .findIndex(l => l.includes('secret: env:ECE_APP_SECRET')) + 1;
    expect(r.stderr).toContain(`${example}:${line}: environments.prod.app.secret:`);
    expect(r.stderr).toMatch(/env:ECE_APP_SECRET is not set/);
    expect(r.stdout).toBe('');
  });

  test('a bad lab fault or scenario exits 2 before anything starts', async () => {
    const fault = await ecebot(['lab', '--fault', 'app-1:smtp:melt']);
    expect(fault.code).toBe(2);
    expect(fault.stderr).toMatch(
      /kind must be one of refuse, blackhole, slow, wrong-cert, expired-cert/,
    );
    const scenario = await ecebot(['lab', '--scenario', 'helthy']);
    expect(scenario.code).toBe(2);
    expect(scenario.stderr).toMatch(/unknown scenario "helthy" \(did you mean healthy\?\)/);
  });

  test('a bad inventory names file, line and field', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ecebot-cli-'));
    const p = join(dir, 'bad.yaml');
    const text = readFileSync(join(ROOT, 'examples', 'inventory.yaml'), 'utf8').replace(
      'role: services',
      'role: service',
    );
    writeFileSync(p, text);
    const line = text.split('\n').findIndex(l => l.includes('role: service }')) + 1;
    const r = await ecebot(['check', 'prod', '--config', p]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `${p}:${line}: environments.prod.servers.0.role: must be one of "services", "application"`,
    );
  });

  test('assembler without REDIS_URL, or with an argument, exits 2 and says what to set', async () => {
    const noQueue = await ecebot(['assembler', '--config', 'examples/inventory.yaml']);
    expect(noQueue.code).toBe(2);
    expect(noQueue.stderr).toMatch(
      /assembler needs REDIS_URL.*\n.*set REDIS_URL=redis:\/\/HOST:6379/,
    );
    const extra = await ecebot(['assembler', 'prod'], {
      env: { REDIS_URL: 'redis://127.0.0.1:1' },
    });
    expect(extra.code).toBe(2);
    expect(extra.stderr).toMatch(/assembler takes no arguments, got: prod/);
  });
});

describe('ecebot help', () => {
  test('lists the assembler with its usage', async () => {
    const r = await ecebot(['help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ {2}ecebot assembler \[--config FILE\]/m);
    expect(r.stdout).toMatch(/assembled by `ecebot serve` or `ecebot assembler`/);
  });
});

describe('ecebot lab and check against it', () => {
  test('lab --json prints one line, check passes against it, SIGTERM exits 0', async () => {
    const { child, line, exited } = await ecebotFirstLine(['lab', '--json']);
    try {
      const info = JSON.parse(line) as {
        env: string;
        inventory: string;
        ca: string;
        endpoints: Record<string, { host: string; port: number }>;
        tokens: Record<string, string>;
      };
      expect(info.env).toBe('lab');
      expect(Object.keys(info.endpoints).sort()).toEqual(
        ['ece', 'entra', 'exo', 'graph', 'imap', 'pop3', 'smtp'].sort(),
      );
      expect(Object.keys(info.tokens)).toContain('support@example.com');

      const human = await ecebot(['check', 'lab', '--config', info.inventory]);
      expect(human.stderr).toBe('');
      expect(human.code).toBe(0);
      expect(human.stdout).toMatch(/^PASS {2}connectivity/m);

      const json = await ecebot([
        'check',
        'lab',
        '--config',
        info.inventory,
        '--json',
        '--item',
        'network',
        '--item',
        'version',
      ]);
      expect(json.code).toBe(0);
      const run = JSON.parse(json.stdout) as {
        environment: string;
        status: string;
        findings: { item: string; vantage?: string }[];
      };
      expect(run.environment).toBe('lab');
      expect(run.findings.map(f => [f.item, f.vantage])).toEqual([
        ['version', 'inventory'],
        ['network', 'services-1,app-1'],
      ]);

      const probe = await ecebot([
        'probe',
        'imap',
        '--host',
        info.endpoints.imap!.host,
        '--port',
        String(info.endpoints.imap!.port),
        '--resolve',
        `${info.endpoints.imap!.host}=127.0.0.1`,
        '--ca',
        info.ca,
        '--user',
        'support@example.com',
        '--token',
        info.tokens['support@example.com']!,
        '--json',
      ]);
      expect(probe.code).toBe(0);
      const p = JSON.parse(probe.stdout) as { protocol: string; ok: boolean; code: string };
      expect(p).toMatchObject({ protocol: 'imap', ok: true, code: 'OK' });
      expect(probe.stdout).not.toContain(info.tokens['support@example.com']);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });

  test('a failing scenario exits 1 and shows the fix', async () => {
    const { child, line, exited } = await ecebotFirstLine([
      'lab',
      '--json',
      '--scenario',
      'smtp-auth-disabled',
    ]);
    try {
      const info = JSON.parse(line) as { inventory: string };
      const r = await ecebot(['check', 'lab', '--config', info.inventory]);
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/^FAIL {2}mailbox-protocols/m);
      expect(r.stdout).toContain(
        'Set-CASMailbox -Identity support@example.com -SmtpClientAuthenticationDisabled $false',
      );
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).toBe(0);
  });
});

describe('ecebot demo', () => {
  test('runs on its own, prints the result and writes the card', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ecebot-demo-'));
    const r = await ecebot(['demo', '--out', dir]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^FAIL {2}mailbox-protocols/m);
    expect(r.stdout).toMatch(/^WARN {2}app-registration/m);
    expect(r.stdout).toMatch(/^FAIL {2}network .*services-1/m);
    const card = JSON.parse(readFileSync(join(dir, 'run-card.json'), 'utf8')) as {
      type: string;
      version: string;
    };
    expect(card).toMatchObject({ type: 'AdaptiveCard', version: '1.5' });
  });
});
