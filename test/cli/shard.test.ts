/** --shard K/N: shards partition the inputs, whatever their order, and say so in the summary. */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { ScanReport } from '../../src/index.js';
import { inShard, parseShard } from '../../src/cli/shard.js';
import { runCli } from '../helpers/cli.js';
import { callFixtures } from '../helpers/paths.js';
import { reportSchemaErrors } from '../helpers/schema.js';

describe('--shard', () => {
  const files = readdirSync(callFixtures).filter((f) => f.endsWith('.sys')).map((f) => join(callFixtures, f));
  it('three shards of a directory: disjoint, together every file, each one marked in the summary', () => {
    const seen: string[] = [];
    for (const k of [1, 2, 3]) {
      const r = runCli(['scan', '-f', 'jsonl', '--fail-on', 'none', '--shard', `${k}/3`, callFixtures]);
      assert.equal(r.status, 0, r.stderr);
      const lines = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { path?: string; summary?: ScanReport['summary'] });
      const paths = lines.flatMap((l) => (l.path ? [l.path] : []));
      assert.equal(lines.at(-1)?.summary?.shard, `${k}/3`);
      assert.ok(paths.length > files.length / 6, `shard ${k}: ${paths.length} of ${files.length} files`);
      seen.push(...paths);
    }
    assert.equal(new Set(seen).size, seen.length, 'no file in two shards');
    assert.deepEqual([...seen].sort(), [...files].sort());
  });
  it('membership depends on the path only, not on the order of the inputs', () => {
    const shard = { index: 2, count: 5 };
    const forward = files.filter((f) => inShard(f, shard));
    const backward = [...files].reverse().filter((f) => inShard(f, shard));
    assert.deepEqual(forward, backward.reverse());
    const some = files.slice(0, 6);
    const a = runCli(['scan', '-f', 'json', '--fail-on', 'none', '--shard', '2/2', ...some]);
    const b = runCli(['scan', '-f', 'json', '--fail-on', 'none', '--shard', '2/2', ...[...some].reverse()]);
    const names = (r: typeof a) => (JSON.parse(r.stdout) as ScanReport).files.map((f) => f.path).sort();
    assert.deepEqual(names(a), names(b));
    assert.deepEqual(reportSchemaErrors(JSON.parse(a.stdout)), []);
  });
  it('K/N is validated: 0/3, 4/3, 3 and x/y are usage errors', () => {
    for (const bad of ['0/3', '4/3', '3', 'x/y']) {
      assert.equal(parseShard(bad), undefined, bad);
      assert.equal(runCli(['scan', '--shard', bad, callFixtures]).status, 2, bad);
    }
    assert.deepEqual(parseShard('3/3'), { index: 3, count: 3 });
  });
});
