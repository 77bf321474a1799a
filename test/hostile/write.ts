/** Writes the hostile inputs to a directory: node --import tsx test/hostile/write.ts DIR [--all] */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hostileInputs } from './inputs.js';

const [dir, flag] = process.argv.slice(2);
if (!dir) {
  process.stderr.write('usage: write.ts DIR [--all]   (--all: also the full-size, slow ones)\n');
  process.exit(2);
}
mkdirSync(dir, { recursive: true });
for (const h of hostileInputs) {
  if (!h.fast && flag !== '--all') continue;
  writeFileSync(join(dir, h.name), h.bytes());
  process.stdout.write(`${h.name}\t${h.what}\n`);
}
