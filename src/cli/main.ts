#!/usr/bin/env node
import { writeFile } from 'node:fs/promises';
import { Command, InvalidArgumentError, Option } from 'commander';
import { renderJson } from '../report/json.js';
import type { FileReport } from '../report/model.js';
import { ExitCode, type FailOn } from '../report/summary.js';
import { renderText } from '../report/text.js';
import { DEFAULT_TARGET_OS, parseTargetOs, TARGET_OS_NAMES, type TargetOs } from '../rules/target-os.js';
import { TOOL_VERSION } from '../version.js';
import { scan } from './scan-command.js';

const EXAMPLES = `
Examples:
  $ hvci scan mydriver.sys
      Check one driver; exit code 1 if it would not load under Memory Integrity.
  $ hvci scan --format json -o hvci.json build/
      Scan every PE file under build/ (recursively) and write the JSON report.
  $ hvci scan --target-os win10-1703 --fail-on warning drivers/
      Only Windows 10 1703 and later matter; fail the build on warnings too.
  $ NO_COLOR=1 hvci scan --quiet C:/Windows/System32/drivers
      Plain output, only files with findings.

Exit codes:
  0  nothing at the --fail-on level
  1  findings at the --fail-on level (default: errors)
  2  usage error
  3  some inputs could not be analysed (and no findings at the --fail-on level)

Severities: error = Windows will refuse or break the driver under HVCI; warning = likely or
version-dependent problem, or a heuristic resting on an unconfirmed fact; note = information.
Rule ids come from the rule book; see docs/rules/<rule-id>.md.`;

function targetOsArg(value: string): TargetOs {
  const t = parseTargetOs(value);
  if (!t) throw new InvalidArgumentError(`unknown Windows version "${value}"; use one of ${TARGET_OS_NAMES.join(', ')} or a build number`);
  return t;
}

function sizeArg(value: string): number {
  const m = /^(\d+)\s*([kmg]i?b?)?$/i.exec(value.trim());
  if (!m) throw new InvalidArgumentError(`"${value}" is not a size (e.g. 64MiB)`);
  const unit = (m[2] ?? '').toLowerCase()[0];
  const mult = unit === 'k' ? 1024 : unit === 'm' ? 1024 ** 2 : unit === 'g' ? 1024 ** 3 : 1;
  return Number(m[1]) * mult;
}

interface ScanFlags {
  format: 'text' | 'json';
  output?: string;
  targetOs: TargetOs;
  failOn: FailOn;
  quiet?: boolean;
  verbose?: boolean;
  color?: boolean;
  maxFileSize: number;
}

export function buildProgram(): Command {
  const program = new Command('hvci')
    .description(
      'Tells whether Windows kernel drivers will load and work under Memory Integrity (HVCI),\nwhy not, and what to change — from the binary alone, on any OS.',
    )
    .version(TOOL_VERSION, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();

  program
    .command('scan')
    .description('Check .sys files (or directories of them, recursively) for HVCI incompatibilities.')
    .argument('<paths...>', 'driver files or directories')
    .addOption(new Option('-f, --format <format>', 'report format').choices(['text', 'json']).default('text'))
    .option('-o, --output <file>', 'write the report to a file instead of stdout')
    .option(
      '-t, --target-os <version>',
      `oldest Windows the driver must support (e.g. win10-1507, win10-1703, win11, server2019, 14393)`,
      targetOsArg,
      DEFAULT_TARGET_OS,
    )
    .addOption(
      new Option('--fail-on <severity>', 'lowest severity that makes the exit code 1').choices(['error', 'warning', 'none']).default('error'),
    )
    .option('-q, --quiet', 'list only files with findings; no progress')
    .option('-v, --verbose', 'also list structural problems tolerated in clean files')
    .option('--no-color', 'never colour the output (NO_COLOR is honoured too)')
    .option('--max-file-size <size>', 'skip files larger than this', sizeArg, 256 * 1024 * 1024)
    .addHelpText('after', EXAMPLES)
    .action(async (paths: string[], flags: ScanFlags) => {
      process.exitCode = await runScan(paths, flags);
    });

  program.addHelpText('after', EXAMPLES);
  return program;
}

async function runScan(paths: string[], flags: ScanFlags): Promise<number> {
  const stderr = process.stderr;
  const showProgress = stderr.isTTY === true && !flags.quiet;
  const errorColor = useColor(stderr, flags);
  const report = await scan(paths, {
    targetOs: flags.targetOs,
    failOn: flags.failOn,
    maxFileSize: flags.maxFileSize,
    onFile: showProgress ? (path, i) => stderr.write(`\r\x1b[K[${i + 1}] ${path}`) : undefined,
    onError: (file: FileReport) => {
      if (showProgress) stderr.write('\r\x1b[K');
      stderr.write(`${errorColor ? '\x1b[35mhvci:\x1b[0m' : 'hvci:'} ${file.path}: ${file.error}\n`);
    },
  } as Parameters<typeof scan>[1]);
  if (showProgress) stderr.write('\r\x1b[K');
  for (const w of report.walkErrors) stderr.write(`hvci: ${w.path}: ${w.error}\n`);

  const toFile = flags.output !== undefined;
  const text =
    flags.format === 'json'
      ? renderJson(report)
      : renderText(report, {
          color: !toFile && useColor(process.stdout, flags),
          verbose: flags.verbose === true,
          quiet: flags.quiet === true,
        });
  if (toFile) await writeFile(flags.output as string, text);
  else process.stdout.write(text);
  return report.summary.exitCode;
}

/** Colours only on a terminal, never with NO_COLOR (any non-empty value) or --no-color. */
export function useColor(stream: NodeJS.WriteStream, flags: { color?: boolean }): boolean {
  if (flags.color === false) return false;
  if (process.env.NO_COLOR) return false;
  return stream.isTTY === true;
}

async function main(): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(process.argv);
  } catch (e) {
    const err = e as { code?: string; exitCode?: number };
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') {
      process.exitCode = ExitCode.ok;
    } else if (typeof err.code === 'string' && err.code.startsWith('commander.')) {
      process.exitCode = ExitCode.usage;
    } else {
      process.stderr.write(`hvci: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exitCode = 4;
    }
  }
}

await main();
