#!/usr/bin/env node
import { writeFile } from 'node:fs/promises';
import { Command, InvalidArgumentError, Option } from 'commander';
import { renderHtml } from '../report/html.js';
import { renderJson } from '../report/json.js';
import { renderSarif } from '../report/sarif.js';
import type { FileReport } from '../report/model.js';
import { ExitCode, type FailOn } from '../report/summary.js';
import { renderText } from '../report/text.js';
import { DEFAULT_TARGET_OS, parseTargetOs, TARGET_OS_NAMES, type TargetOs } from '../rules/target-os.js';
import { TOOL_VERSION } from '../version.js';
import { renderRuleDoc, wdkEquivalents } from '../rules/docs.js';
import { findRule, rules } from '../rules/index.js';
import { runExplain, UsageError } from './explain-command.js';
import { sarifPaths } from './output.js';
import { applyPolicy, ConfigError } from '../config/index.js';
import { ignoreFilter, loadBaseline, loadBlocklist, loadConfig, relativePath } from './policy-files.js';
import { scanCounting } from './scan-command.js';
import { runSystem } from './system-command.js';

const EXAMPLES = `
Examples:
  $ hvci scan mydriver.sys
      Check one driver; exit code 1 if it would not load under Memory Integrity.
  $ hvci scan --format json -o hvci.json build/
      Scan every PE file under build/ (recursively) and write the JSON report.
  $ hvci scan --format sarif -o hvci.sarif build/
      SARIF 2.1.0 for GitHub code scanning / Azure DevOps (paths relative to --root, default .).
  $ hvci scan --format html -o hvci.html drivers/
      One self-contained page to read or send: verdicts, section maps, findings.
  $ hvci scan --target-os win10-1703 --fail-on warning drivers/
      Only Windows 10 1703 and later matter; fail the build on warnings too.
  $ NO_COLOR=1 hvci scan --quiet C:/Windows/System32/drivers
      Plain output, only files with findings.
  $ hvci system --root /mnt/c
      An offline Windows tree: the driver packages that block Memory Integrity, with pnputil advice.
  $ hvci system --from dg.txt incompatible.txt drivers.txt
      Saved Windows outputs from a PC: what blocks Memory Integrity there, and what to run.

Exit codes:
  0  nothing at the --fail-on level
  1  findings at the --fail-on level (default: errors)
  2  usage error
  3  some inputs could not be analysed (and no findings at the --fail-on level)

Severities: error = Windows will refuse or break the driver under HVCI; warning = likely or
version-dependent problem, or a heuristic resting on an unconfirmed fact; note = information.
Rule ids come from the rule book; see docs/rules/<rule-id>.md.`;

const EXPLAIN_EXAMPLES = `
Examples:
  $ hvci explain c4 2000 fffff802da2d33e8 0 484d454d
      Bug check 0xC4 by its four parameters.
  $ pbpaste | hvci explain
      Whatever Windows printed (!analyze -v, a Verifier message, Win32_DeviceGuard …), piped in.
  $ hvci explain -i analyze.txt --driver mydriver.sys --base fffff802da2d0000
      Also point at the function and call site in the driver (base from "lm m mydriver").

Exit codes: 0 explained, 1 nothing recognised, 2 usage error.`;

function targetOsArg(value: string): TargetOs {
  const t = parseTargetOs(value);
  if (!t) throw new InvalidArgumentError(`unknown Windows version "${value}"; use one of ${TARGET_OS_NAMES.join(', ')} or a build number`);
  return t;
}

function addressArg(value: string): bigint {
  const clean = value.replace(/[`_]/g, '');
  if (!/^(0x)?[0-9a-f]+$/i.test(clean)) throw new InvalidArgumentError(`"${value}" is not an address (e.g. fffff802\`da2d0000)`);
  return BigInt(clean.toLowerCase().startsWith('0x') ? clean : `0x${clean}`);
}

function sizeArg(value: string): number {
  const m = /^(\d+)\s*([kmg]i?b?)?$/i.exec(value.trim());
  if (!m) throw new InvalidArgumentError(`"${value}" is not a size (e.g. 64MiB)`);
  const unit = (m[2] ?? '').toLowerCase()[0];
  const mult = unit === 'k' ? 1024 : unit === 'm' ? 1024 ** 2 : unit === 'g' ? 1024 ** 3 : 1;
  return Number(m[1]) * mult;
}

interface ScanFlags {
  format: 'text' | 'json' | 'sarif' | 'html';
  output?: string;
  root?: string;
  targetOs: TargetOs;
  failOn: FailOn;
  quiet?: boolean;
  verbose?: boolean;
  color?: boolean;
  maxFileSize: number;
  config?: string;
  baseline?: string;
  blocklist?: string;
}

export function buildProgram(): Command {
  const program = new Command('hvci')
    .description(
      'Tells whether Windows kernel drivers will load and work under Memory Integrity (HVCI), why not, and what to change — from the binary alone, on any OS.',
    )
    .version(TOOL_VERSION, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();

  program
    .command('scan')
    .description('Check .sys files (or directories of them, recursively) for HVCI incompatibilities.')
    .argument('<paths...>', 'driver files or directories')
    .addOption(new Option('-f, --format <format>', 'report format').choices(['text', 'json', 'sarif', 'html']).default('text'))
    .option('-o, --output <file>', 'write the report to a file instead of stdout')
    .option('--root <dir>', 'SARIF: file locations are relative to this directory (default: the current one)')
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
    .option('-v, --verbose', 'also list every call site checked (compatible ones too) and tolerated structural problems')
    .option('--no-color', 'never colour the output (NO_COLOR is honoured too)')
    .option('--max-file-size <size>', 'skip files larger than this', sizeArg, 256 * 1024 * 1024)
    .option('-c, --config <file>', `config file: target OS, severities per rule, ignored paths, suppressions (default: ./${'hvci.config.json'} if present)`)
    .option('--baseline <report.json>', 'a previous JSON report: findings already in it are reported as baseline and do not fail the scan')
    .option('--blocklist <file.xml>', "Microsoft's driver block rules (SiPolicy XML) to use instead of the bundled copy")
    .addHelpText('after', EXAMPLES)
    .action(async (paths: string[], flags: ScanFlags, command: Command) => {
      try {
        process.exitCode = await runScan(paths, await withConfig(flags, command));
      } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
        process.stderr.write(`hvci: ${e.message.split('\n').join('\nhvci: ')}\n`);
        process.exitCode = ExitCode.usage;
      }
    });

  program
    .command('explain')
    .description(
      'Explain what Windows said about a driver and Memory Integrity: bug check 0xC4, Driver Verifier\ncode-integrity messages and settings, hvciscan / DG Readiness output, Win32_DeviceGuard,\nCodeIntegrity events, incompatible-driver lists, pnputil -e. Reads the words given, --input, or stdin.',
    )
    .argument('[text...]', 'the text, or bug check numbers: c4 2000 fffff802da2d33e8 0 484d454d')
    .option('-i, --input <file>', 'read the text from a file ("-" for stdin)')
    .option('-d, --driver <file>', 'the driver binary, to point at the function and call site')
    .option('-b, --base <address>', 'where the driver was loaded (WinDbg: lm m <driver>), to turn a caller address into an RVA', addressArg)
    .addOption(new Option('-f, --format <format>', 'output format').choices(['text', 'json']).default('text'))
    .addHelpText('after', EXPLAIN_EXAMPLES)
    .action(async (words: string[], flags: { input?: string; driver?: string; base?: bigint; format: 'text' | 'json' }) => {
      try {
        const r = await runExplain(words, flags);
        process.stdout.write(r.text);
        process.exitCode = r.recognised ? ExitCode.ok : ExitCode.findings;
      } catch (e) {
        if (!(e instanceof UsageError)) throw e;
        process.stderr.write(`hvci: ${e.message}\n`);
        process.exitCode = ExitCode.usage;
      }
    });

  program
    .command('system')
    .description(
      'What blocks Memory Integrity on a PC, and what to run: an offline Windows tree (--root: driver store packages,\noemNN.inf names, every driver scanned), or saved Windows outputs from a support ticket (--from: Win32_DeviceGuard,\n"Review incompatible drivers", pnputil, CodeIntegrity events) read together.',
    )
    .option('--root <dir>', 'an offline Windows tree (mounted disk image, backup): driver store, Windows\\INF, System32\\drivers')
    .option('--from <files...>', 'saved Windows outputs (text; UTF-8 or the UTF-16 PowerShell writes)')
    .option('--blocklist <file.xml>', "with --root: Microsoft's driver block rules to use instead of the bundled copy")
    .addOption(new Option('-f, --format <format>', 'output format').choices(['text', 'json', 'html']).default('text'))
    .option('-o, --output <file>', 'write the report to a file instead of stdout')
    .action(async (flags: { from?: string[]; root?: string; blocklist?: string; output?: string; format: 'text' | 'json' | 'html' }) => {
      try {
        const r = await runSystem(flags);
        if (flags.output === undefined) process.stdout.write(r.text);
        else {
          await writeFile(flags.output, r.text).catch((e: unknown) => {
            throw new UsageError(`${flags.output}: cannot write the report: ${e instanceof Error ? e.message : String(e)}`);
          });
        }
        process.exitCode = r.blocking > 0 ? ExitCode.findings : ExitCode.ok;
      } catch (e) {
        if (!(e instanceof UsageError)) throw e;
        process.stderr.write(`hvci: ${e.message}\n`);
        process.exitCode = ExitCode.usage;
      }
    });

  program
    .command('rules')
    .description('List the rules, or show one rule\'s page (what, why, fix, example, Verifier and WDK equivalents).')
    .argument('[rule-id]', 'a rule id, e.g. execute-write-section')
    .action((id: string | undefined) => {
      if (id === undefined) {
        process.stdout.write(renderRuleList());
        return;
      }
      const rule = findRule(id);
      if (!rule) {
        process.stderr.write(`hvci: unknown rule "${id}"; rules: ${rules.map((r) => r.meta.id).join(', ')}\n`);
        process.exitCode = ExitCode.usage;
        return;
      }
      process.stdout.write(renderRuleDoc(rule.meta));
    });

  program.addHelpText('after', EXAMPLES);
  return program;
}

interface ResolvedFlags extends ScanFlags {
  loaded: Awaited<ReturnType<typeof loadConfig>>;
}

/** The config fills in what the command line left at its default; the command line wins. */
async function withConfig(flags: ScanFlags, command: Command): Promise<ResolvedFlags> {
  const loaded = await loadConfig(flags.config);
  const c = loaded.config;
  const out: ResolvedFlags = { ...flags, loaded };
  if (c?.targetOs !== undefined && command.getOptionValueSource('targetOs') === 'default') {
    const t = parseTargetOs(c.targetOs);
    if (!t) throw new ConfigError(`${loaded.path}: unknown Windows version "${c.targetOs}" in targetOs; use one of ${TARGET_OS_NAMES.join(', ')} or a build number`);
    out.targetOs = t;
  }
  if (c?.failOn !== undefined && command.getOptionValueSource('failOn') === 'default') out.failOn = c.failOn;
  return out;
}

async function runScan(paths: string[], flags: ResolvedFlags): Promise<number> {
  const stderr = process.stderr;
  const showProgress = stderr.isTTY === true && !flags.quiet;
  const errorColor = useColor(stderr, flags);
  const baseline = flags.baseline === undefined ? undefined : await loadBaseline(flags.baseline);
  const blocklist = flags.blocklist === undefined ? undefined : await loadBlocklist(flags.blocklist);
  const ignore = ignoreFilter(flags.loaded.config);
  const outcome = await scanCounting(paths, {
    ...(ignore ? { ignore } : {}),
    targetOs: flags.targetOs,
    ...(blocklist ? { blocklist } : {}),
    failOn: flags.failOn,
    maxFileSize: flags.maxFileSize,
    onFile: showProgress ? (path, i) => stderr.write(`\r\x1b[K[${i + 1}] ${path}`) : undefined,
    onError: (file: FileReport) => {
      if (showProgress) stderr.write('\r\x1b[K');
      stderr.write(`${errorColor ? '\x1b[35mhvci:\x1b[0m' : 'hvci:'} ${file.path}: ${file.error}\n`);
    },
  } as Parameters<typeof scanCounting>[1]);
  const config = flags.loaded.config;
  const report =
    config || baseline
      ? applyPolicy(outcome.report, {
          ...(config ? { config } : {}),
          ...(baseline ? { baseline } : {}),
          relativePath,
          ignored: outcome.ignored,
        })
      : outcome.report;
  if (showProgress) stderr.write('\r\x1b[K');
  for (const w of report.walkErrors) stderr.write(`hvci: ${w.path}: ${w.error}\n`);

  const toFile = flags.output !== undefined;
  const text =
    flags.format === 'json'
      ? renderJson(report)
      : flags.format === 'sarif'
        ? renderSarif(report, sarifPaths(flags.root ?? process.cwd()))
        : flags.format === 'html'
          ? renderHtml(report)
          : renderText(report, {
          color: !toFile && useColor(process.stdout, flags),
          verbose: flags.verbose === true,
          quiet: flags.quiet === true,
        });
  if (toFile) await writeFile(flags.output as string, text);
  else process.stdout.write(text);
  return report.summary.exitCode;
}

function renderRuleList(): string {
  const width = Math.max(...rules.map((r) => r.meta.id.length));
  const lines = rules.map((r) => {
    const m = r.meta;
    const verifier = /0x20\d\d/.exec(m.docs.verifier ?? '')?.[0];
    const wdk = /C300\d\d/.test(wdkEquivalents(m)) ? wdkEquivalents(m) : undefined;
    const eq = [verifier ? `Verifier 0xC4/${verifier}` : undefined, wdk].filter(Boolean).join('; ');
    return `${m.id.padEnd(width)}  ${m.defaultSeverity.padEnd(7)}  ${m.docs.title}${eq ? `  [${eq}]` : ''}`;
  });
  return `${lines.join('\n')}\n\n${rules.length} rules. "hvci rules <id>" shows one (also docs/rules/<id>.md).\n`;
}

/** Colours only on a terminal, never with NO_COLOR (any non-empty value) or --no-color. */
export function useColor(stream: NodeJS.WriteStream, flags: { color?: boolean }): boolean {
  if (flags.color === false) return false;
  if (process.env.NO_COLOR) return false;
  return stream.isTTY === true;
}

/**
 * `hvci scan … | head`: the reader went away. Stop quietly, as Unix tools do, instead of
 * dying with an unhandled EPIPE stack trace.
 */
function exitQuietlyOnClosedPipe(stream: NodeJS.WriteStream): void {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    process.exit(typeof process.exitCode === 'number' ? process.exitCode : ExitCode.ok);
  });
}

async function main(): Promise<void> {
  exitQuietlyOnClosedPipe(process.stdout);
  exitQuietlyOnClosedPipe(process.stderr);
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
