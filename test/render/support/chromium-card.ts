/**
 * Cards rendered as a reader sees them: the `adaptivecards` JS renderer (the one the Agents
 * Playground and the Designer use) with a Teams host config, in Debian's Chromium driven by
 * playwright-core, at a given width. The page is built from local files only (setContent and
 * the renderer's UMD build); every request off the machine is refused.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { TEAMS_HOST_CONFIG } from './teams-host-config';

export const CHROMIUM = '/usr/bin/chromium';
export const ARTIFACTS = join(__dirname, '..', '..', '..', 'test-artifacts');
const RENDERER = join(
  __dirname,
  '..',
  '..',
  '..',
  'node_modules',
  'adaptivecards',
  'dist',
  'adaptivecards.js',
);

/** A browser page that renders cards; close it when done. */
export interface CardPage {
  /** Render `card` at `width` px; resolves to the rendered card's height in px. */
  render(card: unknown, width: number): Promise<number>;
  /** Click the first visible element with this text (a toggle) and return the new height. */
  click(text: string): Promise<number>;
  /** Ids of the elements of the rendered card that are hidden / shown now. */
  visibleIds(prefix: string): Promise<string[]>;
  /** The rendered card's text as a reader sees it (innerText). */
  text(): Promise<string>;
  /** Save a screenshot of the rendered card under test-artifacts/. */
  screenshot(name: string): Promise<string>;
  close(): Promise<void>;
}

/** What the script below defines in the page. */
interface InPage {
  renderCard(card: unknown, width: number, config: unknown): number;
  cardHeight(): number;
  visibleIds(prefix: string): string[];
}

/**
 * Runs in the page. Markdown as Teams reads it in a TextBlock (bold, links; the renderer has
 * none of its own), after escaping HTML; the card's height is its root element's.
 */
const IN_PAGE = `
(() => {
  const AC = window.AdaptiveCards;
  const esc = s => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  AC.AdaptiveCard.onProcessMarkdown = (text, result) => {
    result.outputHtml = esc(text)
      .replace(/\\*\\*([^*]+)\\*\\*/g, '<b>$1</b>')
      .replace(/\\[([^\\]]+)\\]\\(([^)]+)\\)/g, '<a href="$2">$1</a>');
    result.didProcess = true;
  };
  const host = () => document.getElementById('host');
  window.cardHeight = () => host().firstElementChild.offsetHeight;
  window.renderCard = (card, width, config) => {
    host().style.width = width + 'px';
    host().innerHTML = '';
    const ac = new AC.AdaptiveCard();
    ac.hostConfig = new AC.HostConfig(config);
    ac.parse(card);
    window.card = ac;
    host().appendChild(ac.render());
    return window.cardHeight();
  };
  window.visibleIds = prefix =>
    [...document.querySelectorAll('[id]')]
      .map(e => e.id)
      .filter(id => id.startsWith(prefix) && window.card.getElementById(id)?.isVisible);
})();
`;

export async function openCardPage(): Promise<CardPage> {
  const browser: Browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
    ],
  });
  const page: Page = await browser.newPage({ viewport: { width: 1000, height: 3000 } });
  await page.route(
    () => true,
    route => route.abort(),
  );
  await page.setContent(
    '<!doctype html><html><body style="margin:0"><div id="host"></div></body></html>',
  );
  await page.addScriptTag({ path: RENDERER });
  await page.addScriptTag({ content: IN_PAGE });
  return {
    async render(card, width) {
      return page.evaluate(
        a => (globalThis as unknown as InPage).renderCard(a.card, a.width, a.config),
        {
          card,
          width,
          config: TEAMS_HOST_CONFIG,
        },
      );
    },
    async click(text) {
      await page.locator('#host').getByText(text, { exact: true }).first().click();
      return page.evaluate(() => (globalThis as unknown as InPage).cardHeight());
    },
    async visibleIds(prefix) {
      return page.evaluate(p => (globalThis as unknown as InPage).visibleIds(p), prefix);
    },
    async text() {
      return page.locator('#host').innerText();
    },
    async screenshot(name) {
      mkdirSync(ARTIFACTS, { recursive: true });
      const path = join(ARTIFACTS, name);
      await page.locator('#host').screenshot({ path });
      return path;
    },
    close: () => browser.close(),
  };
}
