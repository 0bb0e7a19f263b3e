/**
 * The external-URL read (checklist.md item 2): an HTTPS GET of ECE's "External URL of the
 * application" from this server, when it is an https URL (the rule judges a missing or
 * non-https URL from the inventory alone).
 */
import { probeHttps } from '../../probes/https';
import { guarded, type ReadDeclaration } from './read';

export const externalUrl: ReadDeclaration = {
  name: 'external-url',
  on: ['services', 'application'],
  async observe({ run, ctx, endpoints: ep }) {
    const url = run.env.ece.externalUrl;
    if (!url || !/^https:\/\//i.test(url)) return [];
    return guarded(ctx, 'https', url, () =>
      probeHttps(ctx, url, ep.ece ? { connectTo: ep.ece } : {}),
    );
  },
};
