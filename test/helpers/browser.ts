/**
 * Debian's headless Chromium (/usr/bin/chromium, or $HVCI_CHROMIUM) driven by playwright-core:
 * no browser download. CI (.ci/run) installs it, and with CI set a missing browser is a
 * failure; elsewhere the browser tests are skipped with a message saying how to install it.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';

export const CHROMIUM = process.env.HVCI_CHROMIUM ?? '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium && process.env.CI) throw new Error(`${CHROMIUM} is missing; .ci/run must install it (apt-get install -y chromium)`);
/** `skip` for a browser test's describe(). */
export const noBrowser: string | false = hasChromium ? false : `no Chromium at ${CHROMIUM}: apt-get install -y chromium (or set HVCI_CHROMIUM) to run the browser test`;

/** A browser with a fresh profile in `work` (playwright passes it as --user-data-dir). */
export function launchBrowser(work: string, viewport = { width: 1100, height: 900 }): Promise<BrowserContext> {
  return chromium.launchPersistentContext(mkdtempSync(join(work, 'profile-')), {
    executablePath: CHROMIUM,
    headless: true,
    viewport,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}
