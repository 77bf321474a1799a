import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rules } from '../../src/rules/index.js';
import { renderRuleDoc } from '../../src/rules/docs.js';
import { runCli } from '../helpers/cli.js';

describe('hvci rules', () => {
  it('lists every rule with severity, title and Verifier code', () => {
    const r = runCli(['rules']);
    assert.equal(r.status, 0);
    for (const { meta } of rules) assert.match(r.stdout, new RegExp(`^${meta.id} +${meta.defaultSeverity} +${meta.docs.title.replace(/[()]/g, '.')}`, 'm'));
    assert.match(r.stdout, /execute-write-section .*\[Verifier 0xC4\/0x2003\]/);
  });
  it('shows one rule: the same page as docs/rules/<id>.md', () => {
    const r = runCli(['rules', 'execute-write-section']);
    assert.equal(r.status, 0);
    assert.equal(r.stdout, renderRuleDoc(rules.find((x) => x.meta.id === 'execute-write-section')!.meta));
    for (const h of ['## What it flags', '## Why HVCI rejects it', '## How to fix', '## Example', '## Equivalents', 'WDK Code Analysis:']) assert.ok(r.stdout.includes(h), h);
  });
  it('exits 2 and lists the ids for an unknown rule', () => {
    const r = runCli(['rules', 'no-such-rule']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /unknown rule "no-such-rule"; rules: .*execute-write-section/);
  });
});

describe('rule docs examples are real output', () => {
  for (const { meta } of rules.filter((r) => r.meta.docs.example)) {
    it(meta.id, () => {
      const ex = meta.docs.example!;
      const r = runCli(['scan', '--no-color', `test/fixtures/image/bin/${ex.fixture}`]);
      const normalise = (s: string) => s.split('\n').map((l) => l.trim()).filter(Boolean);
      const out = normalise(r.stdout);
      for (const line of normalise(ex.text)) assert.ok(out.includes(line), `"${line}" not in:\n${r.stdout}`);
    });
  }
});
