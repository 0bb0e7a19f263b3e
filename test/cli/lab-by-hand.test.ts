/**
 * `ecebot lab` prints a probe line that works as printed: `npx ecebot probe imap …` with
 * --resolve, the lab's CA and a token file, against the lab's IMAP, which says its port stands
 * for Office 365's 993 (RFC 8314 §3.3: IMAP over implicit TLS is port 993). Runs the built CLI.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { ecebot, ecebotFirstLine } from './support';

test('the probe line ecebot lab prints logs in to the lab’s IMAP as printed', async () => {
  const { child, exited } = await ecebotFirstLine(['lab', '--scenario', 'healthy']);
  try {
    const lines: string[] = [];
    const rl = createInterface({ input: child.stdout! });
    await new Promise<void>(resolve =>
      rl.on('line', l => {
        lines.push(l);
        if (l.trim().startsWith('curl ')) resolve();
      }),
    );
    const probe = lines.find(l => l.trim().startsWith('npx ecebot probe imap'))!;
    expect(probe).toBeDefined();
    expect(probe).toMatch(/--resolve outlook\.office365\.com=127\.0\.0\.1 --ca \S+ca\.pem/);
    expect(probe).not.toMatch(/--token /);
    const port = /--port (\d+)/.exec(probe)![1];
    expect(lines.join('\n')).toContain(`port ${port} stands for Office 365's IMAP port 993`);
    const args = probe.trim().split(/\s+/).slice(2);
    const r = await ecebot(args);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^OK {2}XOAUTH2 login as support@example\.com accepted/m);

    // The curl line: the same login with an independent client. Run without a shell, so the
    // `"$(cat FILE)"` it prints for a shell is read here.
    const curlLine = lines.find(l => l.trim().startsWith('curl '))!;
    const file = /"\$\(cat (\S+)\)"/.exec(curlLine)![1]!;
    const curlArgs = curlLine
      .trim()
      .replace(/"\$\(cat \S+\)"/, readFileSync(file, 'utf8').trim())
      .split(/\s+/)
      .slice(1);
    const listed = await new Promise<{ code: number; out: string }>(resolve =>
      execFile('curl', ['-sS', '--max-time', '10', ...curlArgs], (err, stdout) =>
        resolve({ code: err ? 1 : 0, out: stdout }),
      ),
    );
    // IMAP LIST answers (RFC 3501 §7.2.2): curl prints the mailbox list on a good login.
    expect(listed).toMatchObject({ code: 0, out: expect.stringMatching(/\* LIST .*INBOX/) });
    // And the lab's JSON and text say what each scenario breaks.
    expect(lines.join('\n')).toMatch(/breaks {4}healthy: /);
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
});
