/**
 * action.yml, the composite GitHub Action: parsed as YAML, its shape checked, and its scan
 * step run here with bash exactly as the runner would (inputs as environment variables,
 * GITHUB_ACTION_PATH pointing at an hvci whose dist/cli/main.js starts this checkout's CLI).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, describe, it } from 'node:test';
import { parse } from 'yaml';
import { repoRoot } from '../helpers/paths.js';
import { sarifSchemaErrors } from '../report/sarif-schema.js';

interface Step {
  id?: string;
  name?: string;
  uses?: string;
  if?: string;
  shell?: string;
  run?: string;
  env?: Record<string, string>;
  with?: Record<string, unknown>;
}
interface Action {
  name: string;
  inputs: Record<string, { required?: boolean; default?: string }>;
  runs: { using: string; steps: Step[] };
}

const action = parse(readFileSync(join(repoRoot, 'action.yml'), 'utf8')) as Action;
const steps = action.runs.steps;
const scan = steps.find((s) => s.id === 'scan') as Step;

/** The runner's view of `${{ inputs.x }}`: the given value, else the input's default. */
function expand(text: string, inputs: Record<string, string>): string {
  return text.replace(/\$\{\{\s*inputs\.([\w-]+)\s*\}\}/g, (_m, name: string) => {
    assert.ok(name in action.inputs, `unknown input ${name}`);
    return inputs[name] ?? action.inputs[name]?.default ?? '';
  });
}

describe('action.yml', () => {
  const work = mkdtempSync(join(tmpdir(), 'hvci-action-'));
  after(() => rmSync(work, { recursive: true, force: true }));

  it('is a composite action: node, install, scan, then upload-sarif of the scan’s report', () => {
    assert.equal(action.runs.using, 'composite');
    assert.equal(action.inputs.paths?.required, true);
    assert.equal(action.inputs['fail-on']?.default, 'error');
    assert.match(steps[0]?.uses ?? '', /^actions\/setup-node@v\d+$/);
    assert.ok(scan?.run && scan.shell === 'bash');
    const upload = steps.at(-1) as Step;
    assert.match(upload.uses ?? '', /^github\/codeql-action\/upload-sarif@v\d+$/);
    assert.equal(upload.with?.sarif_file, '${{ inputs.sarif }}');
    assert.match(upload.if ?? '', /always\(\)/, 'the report is uploaded when the scan fails the job');
    assert.doesNotMatch(scan.run, /\$\{\{/, 'inputs reach the script as environment variables only');
  });

  it('its scan step, run as the runner would: annotations on the source lines, SARIF written and valid, exit 1 on errors', () => {
    // GITHUB_ACTION_PATH: dist/cli/main.js starts this checkout's CLI from source
    const actionPath = join(work, 'action');
    mkdirSync(join(actionPath, 'dist', 'cli'), { recursive: true });
    symlinkSync(join(repoRoot, 'node_modules'), join(actionPath, 'node_modules'));
    writeFileSync(
      join(actionPath, 'dist', 'cli', 'main.js'),
      `import { register } from 'tsx/esm/api';\nregister();\nawait import(${JSON.stringify(pathToFileURL(join(repoRoot, 'src', 'cli', 'main.ts')).href)});\n`,
    );
    writeFileSync(join(actionPath, 'package.json'), '{"type":"module"}');
    const sarif = join(work, 'out.sarif');
    const inputs = { paths: 'test/fixtures/pdb/bin/rxdrv.x64.sys test/fixtures/pdb/bin/rxdrv.x86.sys', 'source-root': 'test/fixtures/pdb', sarif };
    const env = Object.fromEntries(Object.entries(scan.env ?? {}).map(([k, v]) => [k, expand(v, inputs)]));
    const r = spawnSync('bash', ['-c', scan.run as string], {
      cwd: repoRoot,
      encoding: 'utf8',
      env: { ...process.env, ...env, GITHUB_ACTION_PATH: actionPath, NO_COLOR: '1' },
      timeout: 120_000,
    });
    assert.equal(r.status, 1, r.stderr);
    const annotations = r.stdout.split('\n').filter((l) => l.startsWith('::error '));
    assert.equal(annotations.length, 10, r.stdout);
    assert.ok(annotations.some((l) => l.startsWith('::error file=test/fixtures/pdb/src/util.c,line=8,title=hvci execute-pool-type::')));
    const log = JSON.parse(readFileSync(sarif, 'utf8'));
    assert.deepEqual(sarifSchemaErrors(log), []);
    assert.equal(log.runs[0].results.filter((x: { locations: Array<{ physicalLocation: { region?: { startLine?: number } } }> }) => x.locations[0]?.physicalLocation.region?.startLine).length, 8);
  });
});
