/**
 * Local mode (no MicrosoftAppId) checks no Bot Framework token, so `ecebot serve` refuses to
 * listen on anything but loopback then. Loopback per RFC 1122 §3.2.1.3 (127.0.0.0/8) and
 * RFC 4291 §2.5.3 (::1); `0.0.0.0` and `::` are every interface.
 */
import { InputError } from '../../src/inventory/errors';
import { checkLocalModeHost, isLoopbackHost } from '../../src/teams/exposure';
import { runServe } from '../../src/teams/serve';

describe('local mode stays on loopback', () => {
  test('loopback addresses by the RFCs; every other address is not', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', '0:0:0:0:0:0:0:1'])
      expect({ h, loopback: isLoopbackHost(h) }).toEqual({ h, loopback: true });
    for (const h of ['0.0.0.0', '::', '10.0.0.5', '192.168.1.10', 'bot.example.com', '128.0.0.1'])
      expect({ h, loopback: isLoopbackHost(h) }).toEqual({ h, loopback: false });
  });

  test('a non-loopback ECEBOT_HOST without MicrosoftAppId is refused; with it, allowed', () => {
    expect(() => checkLocalModeHost({ ECEBOT_HOST: '0.0.0.0' })).toThrow(InputError);
    expect(() => checkLocalModeHost({ ECEBOT_HOST: '0.0.0.0' })).toThrow(/MicrosoftAppId/);
    expect(() => checkLocalModeHost({ ECEBOT_HOST: '127.0.0.1' })).not.toThrow();
    expect(() => checkLocalModeHost({})).not.toThrow();
    expect(() =>
      checkLocalModeHost({
        ECEBOT_HOST: '0.0.0.0',
        MicrosoftAppId: '00000000-0000-0000-0000-000000000001',
      }),
    ).not.toThrow();
  });

  test('`ecebot serve` stops before listening or reading the inventory', async () => {
    const out: string[] = [];
    await expect(
      runServe(['--port', '0'], {
        out: (s: string) => out.push(s),
        err: (s: string) => out.push(s),
        env: { ECEBOT_HOST: '0.0.0.0', ECEBOT_CONFIG: '/nonexistent/ecebot.yaml' },
        cwd: '/',
      } as unknown as Parameters<typeof runServe>[1]),
    ).rejects.toThrow(/without MicrosoftAppId would expose the bot unauthenticated/);
    expect(out).toEqual([]);
  });
});
