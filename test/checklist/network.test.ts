import { network } from '../../src/checklist/network';
import { dns, drop, edit, facts, is, swap, tls } from './fixtures';

describe('network rule', () => {
  test('every target reachable from every server passes', () => {
    const f = network(edit());
    expect(f).toMatchObject({ status: 'pass', code: 'OK', codes: [], failedOn: [] });
    expect(f.summary).toContain('outlook.office365.com:993');
    expect(f.vantages).toEqual(['services-1', 'app-1']);
  });

  test.each`
    vantage         | port   | host                           | code                      | summary                                                                               | text
    ${'services-1'} | ${993} | ${'outlook.office365.com'}     | ${'CONNECT_REFUSED'}      | ${'outlook.office365.com:993 refused from services-1'}                                | ${'993 refused after 1 ms'}
    ${'services-1'} | ${995} | ${'outlook.office365.com'}     | ${'CONNECT_TIMEOUT'}      | ${'outlook.office365.com:995 timed out from services-1'}                              | ${'995 timed out after 1 ms'}
    ${'app-1'}      | ${443} | ${'login.microsoftonline.com'} | ${'TIMEOUT'}              | ${'login.microsoftonline.com:443 timed out from app-1'}                               | ${'443 timed out after 1 ms'}
    ${'app-1'}      | ${587} | ${'smtp.office365.com'}        | ${'STARTTLS_UNAVAILABLE'} | ${'smtp.office365.com:587 STARTTLS refused from app-1'}                               | ${'587 STARTTLS refused after 1 ms'}
    ${'services-1'} | ${443} | ${'login.microsoftonline.com'} | ${'TLS_CERT_INVALID'}     | ${'login.microsoftonline.com:443 presented an untrusted certificate from services-1'} | ${'443 presented an untrusted certificate'}
  `(
    '$code on $host:$port from $vantage fails, naming both',
    ({ vantage, port, host, code, summary, text }) => {
      const f = network(
        edit(obs =>
          swap(obs, is.tls(vantage, port), () => tls(vantage, host, port, { code, ok: false })),
        ),
      );
      expect(f).toMatchObject({ status: 'fail', code, codes: [code], failedOn: [vantage] });
      expect(f.summary).toBe(summary);
      expect(f.evidence.find(e => !e.ok)?.text).toContain(text);
      expect(f.remediation[0]?.code).toBe(code);
    },
  );

  test('a refused port gets the firewall rule for that server, host and port', () => {
    const f = network(
      edit(obs =>
        swap(obs, is.tls('services-1', 993), () =>
          tls('services-1', 'outlook.office365.com', 993, { code: 'CONNECT_REFUSED', ok: false }),
        ),
      ),
    );
    expect(f.remediation[0]?.fix).toBe(
      'Allow outbound TCP 993 from services-1 to outlook.office365.com',
    );
  });

  test('a name that does not resolve fails for that server', () => {
    const f = network(
      edit(obs =>
        swap(obs, is.dns('app-1', 'smtp.office365.com'), () =>
          dns('app-1', 'smtp.office365.com', 'DNS_NOT_FOUND'),
        ),
      ),
    );
    expect(f).toMatchObject({ status: 'fail', code: 'DNS_NOT_FOUND', failedOn: ['app-1'] });
    expect(f.summary).toBe('smtp.office365.com does not resolve from app-1');
  });

  test('failures on two servers list both, with one remediation per code and both fixes', () => {
    const f = network(
      edit(obs => {
        let out = swap(obs, is.tls('services-1', 587), () =>
          tls('services-1', 'smtp.office365.com', 587, { code: 'CONNECT_REFUSED', ok: false }),
        );
        out = swap(out, is.tls('app-1', 587), () =>
          tls('app-1', 'smtp.office365.com', 587, { code: 'CONNECT_REFUSED', ok: false }),
        );
        return out;
      }),
    );
    expect(f.failedOn).toEqual(['services-1', 'app-1']);
    expect(f.remediation).toHaveLength(1);
    expect(f.remediation[0]?.fix?.split('\n')).toEqual([
      'Allow outbound TCP 587 from services-1 to smtp.office365.com',
      'Allow outbound TCP 587 from app-1 to smtp.office365.com',
    ]);
  });

  test('a TLS handshake that completed with an untrusted certificate still fails', () => {
    const f = network(
      edit(obs =>
        swap(obs, is.tls('app-1', 443), o => ({ ...o, cert: { ...o.cert!, trusted: false } })),
      ),
    );
    expect(f).toMatchObject({ status: 'fail', code: 'TLS_CERT_INVALID', failedOn: ['app-1'] });
  });

  test('nothing observed from any server is a skip naming the servers', () => {
    const f = network(edit(obs => drop(obs, o => o.kind === 'dns' || o.kind === 'tls')));
    expect(f).toMatchObject({ status: 'skip', code: 'NO_WORKER' });
    expect(f.summary).toBe('nothing observed from services-1; nothing observed from app-1');
  });

  test('a server that sent nothing leaves the item not established, naming it', () => {
    const f = network(
      edit(obs => drop(obs, o => (o.kind === 'dns' || o.kind === 'tls') && o.vantage === 'app-1')),
    );
    expect(f.status).toBe('skip');
    expect(f.summary).toContain('nothing observed from app-1; established:');
  });

  test('a crashed probe is an error', () => {
    const f = network(
      edit(obs =>
        swap(obs, is.tls('app-1', 443), o => ({ ...o, ok: false, code: 'CHECK_CRASHED' as const })),
      ),
    );
    expect(f).toMatchObject({ status: 'error', code: 'CHECK_CRASHED', failedOn: ['app-1'] });
  });
});

describe('network rule: TLS versions, legacy endpoints, proxies', () => {
  test('the negotiated TLS version and cipher are in the evidence of a passing endpoint', () => {
    const f = network(
      edit(obs =>
        swap(obs, is.tls('services-1', 993), o =>
          tls('services-1', 'outlook.office365.com', 993, {
            protocol: 'TLSv1.2',
            cipher: 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384',
            cert: (o as { cert?: never }).cert,
          }),
        ),
      ),
    );
    expect(f.status).toBe('pass');
    expect(f.evidence.map(e => e.text)).toEqual(
      expect.arrayContaining([
        expect.stringContaining('993 TLS TLSv1.2 TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 ok'),
      ]),
    );
  });

  test('a *-legacy.office365.com endpoint in the inventory fails with TLS_LEGACY_ENDPOINT', () => {
    const env = facts({
      endpointHosts: [
        { field: 'endpoints.imap', host: 'imap-legacy.office365.com' },
        { field: 'endpoints.smtp', host: 'smtp.office365.com' },
      ],
    });
    const f = network(edit(undefined, env));
    expect(f).toMatchObject({ status: 'fail', code: 'TLS_LEGACY_ENDPOINT' });
    expect(f.codes).toEqual(['TLS_LEGACY_ENDPOINT']);
    expect(f.summary).toContain('imap-legacy.office365.com (endpoints.imap)');
    expect(f.remediation[0]?.text).toContain('outlook.office365.com');
  });

  test('a proxy refusal fails the endpoint with the proxy code, not a firewall code', () => {
    const f = network(
      edit(obs =>
        swap(obs, is.tls('app-1', 443), () =>
          tls('app-1', 'login.microsoftonline.com', 443, {
            code: 'PROXY_REFUSED',
            ok: false,
            proxy: 'http://proxy.corp:3128',
          }),
        ),
      ),
    );
    expect(f).toMatchObject({ status: 'fail', code: 'PROXY_REFUSED', failedOn: ['app-1'] });
    expect(f.remediation[0]?.text).toContain('The proxy refused');
    expect(f.remediation[0]?.text).not.toContain('drops the packets');
  });

  test('a failing mail port on a server whose HTTPS goes through a proxy says the proxy does not carry it', () => {
    const f = network(
      edit(obs => {
        let out = swap(obs, is.tls('services-1', 443), () =>
          tls('services-1', 'login.microsoftonline.com', 443, { proxy: 'http://proxy.corp:3128' }),
        );
        out = swap(out, is.tls('services-1', 995), () =>
          tls('services-1', 'outlook.office365.com', 995, { code: 'CONNECT_TIMEOUT', ok: false }),
        );
        return out;
      }),
    );
    expect(f).toMatchObject({ status: 'fail', code: 'CONNECT_TIMEOUT' });
    expect(f.evidence.find(e => !e.ok)?.text).toContain(
      'does not go through the HTTP proxy http://proxy.corp:3128',
    );
  });
});

// Fixes speak of the service's port (checklist item 8: 993 for IMAP), whatever port the check
// reached it on; that one (the lab's, an inventory override) is named only as such.
describe('fixes name the service port', () => {
  test.each([
    ['imap', 993],
    ['pop3', 995],
    ['smtp', 587],
    ['https', 443],
  ] as const)(
    '%s reached on another port: the fix says %d and names the other as such',
    (service, port) => {
      const f = network(
        edit(obs => {
          const o = obs.find(x => x.kind === 'tls' && x.vantage === 'services-1');
          if (!o || o.kind !== 'tls') throw new Error('no tls observation');
          Object.assign(o, {
            ok: false,
            code: 'CONNECT_REFUSED',
            port: 45881,
            target: `${o.host}:45881`,
            service,
          });
        }),
      );
      const fix = f.remediation.find(r => r.code === 'CONNECT_REFUSED')?.fix ?? '';
      expect(fix).toContain(`Allow outbound TCP ${port} from services-1`);
      expect(fix).toContain('(reached on port 45881)');
    },
  );

  test('reached on the service port itself: no second port is named', () => {
    const f = network(
      edit(obs => {
        const o = obs.find(x => x.kind === 'tls' && x.vantage === 'services-1' && x.port === 993);
        if (!o || o.kind !== 'tls') throw new Error('no tls observation on 993');
        Object.assign(o, { ok: false, code: 'CONNECT_REFUSED', service: 'imap' });
      }),
    );
    const fix = f.remediation.find(r => r.code === 'CONNECT_REFUSED')?.fix ?? '';
    expect(fix).toContain('Allow outbound TCP 993 from services-1');
    expect(fix).not.toContain('reached on port');
  });
});
