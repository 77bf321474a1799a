import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The shared corpus sits beside the checkout (../shared/corpus); HVCI_CORPUS overrides. */
export const corpusDir = process.env.HVCI_CORPUS ?? resolve(repoRoot, '..', 'shared', 'corpus');
export const imageFixtures = join(repoRoot, 'test', 'fixtures', 'image', 'bin');
export const callFixtures = join(repoRoot, 'test', 'fixtures', 'calls', 'bin');
export const cliEntry = join(repoRoot, 'src', 'cli', 'main.ts');
export const hasCorpus = existsSync(join(corpusDir, 'MANIFEST.tsv'));
