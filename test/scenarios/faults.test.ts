/**
 * Ad-hoc network faults (`ecebot lab --fault`): each server sees its own network, and the
 * network finding names the server and the certificate problem.
 */
import { parseFault } from '../../src/lab/faults';
import { LAB_VANTAGES, startLab, type Lab } from '../../src/lab/index';
import { loadInventory, pickEnvironment } from '../../src/inventory/load';
import { prepareRun } from '../../src/runner/prepare';
import { runInProcess } from '../../src/runner/run';

describe('lab --fault', () => {
  test.each([
    ['app-1:smtp', 'bad fault "app-1:smtp": use VANTAGE:ENDPOINT:KIND[:DELAYMS]'],
    ['app-9:smtp:refuse', 'vantage must be one of services-1, app-1'],
    ['app-1:ftp:refuse', 'endpoint must be one of'],
    ['app-1:smtp:melt', 'kind must be one of refuse, blackhole, slow, wrong-cert, expired-cert'],
    ['app-1:smtp:refuse:100', 'a delay (1-60000 ms) goes only with kind slow'],
  ])('%s is refused with a clear message', (spec, message) => {
    expect(() => parseFault(spec, LAB_VANTAGES)).toThrow(message);
  });

  test('parses a slow fault with its delay', () => {
    expect(parseFault('services-1:imap:slow:1500', LAB_VANTAGES)).toEqual({
      vantage: 'services-1',
      endpoint: 'imap',
      kind: 'slow',
      delayMs: 1500,
    });
  });

  describe('certificate faults per server', () => {
    let lab: Lab;
    beforeAll(async () => {
      lab = await startLab({
        scenarios: [],
        faults: [
          parseFault('app-1:smtp:expired-cert', LAB_VANTAGES),
          parseFault('services-1:pop3:wrong-cert', LAB_VANTAGES),
        ],
      });
    });
    afterAll(() => lab?.stop());

    test('network fails on each server with its own certificate problem', async () => {
      const inv = loadInventory(lab.info.inventory);
      const run = await runInProcess(
        prepareRun(pickEnvironment(inv, 'lab', 'test'), inv, { vars: {}, items: ['network'] }),
      );
      const net = run.findings[0]!;
      expect(net.item).toBe('network');
      expect(net.status).toBe('fail');
      expect([...net.failedOn].sort()).toEqual(['app-1', 'services-1']);
      const bad = net.evidence.filter(e => !e.ok).map(e => `${e.vantage} ${e.target} ${e.code}`);
      expect(bad).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^app-1 smtp\.office365\.com:\d+ TLS_CERT_EXPIRED$/),
          expect.stringMatching(/^services-1 outlook\.office365\.com:\d+ TLS_CERT_INVALID$/),
        ]),
      );
      // The same endpoints are fine from the other server.
      const good = net.evidence
        .filter(e => e.ok)
        .map(e => `${e.vantage} ${e.target.split(':')[0]}`);
      expect(good).toEqual(expect.arrayContaining(['services-1 smtp.office365.com']));
    });
  });
});
