#!/usr/bin/env node
/**
 * The CLI entry: options, help and exit codes. Each command's code is imported when that
 * command runs, so `hvci --version`, `--help` and `rules` start without loading the decoder,
 * the signature reader or the block rules.
 */
import { constants as bufferConstants } from 'node:buffer';
import { availableParallelism } from 'node:os';
import { Command, InvalidArgumentError, Option } from 'commander';
import { ExitCode } from '../report/summary.js';
import { visible } from '../report/terminal-safe.js';
import { DEFAULT_TARGET_OS, parseTargetOs, TARGET_OS_NAMES, type TargetOs } from '../rules/target-os.js';
import { TOOL_VERSION } from '../version.js';
import type { ScanFlags } from './scan-run.js';
import { parseShard, type Shard } from './shard.js';

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
  $ hvci scan --pdb out/ --source-root . out/mydriver.sys
      Findings name the function and source line (src/rx.c:142) from the driver's PDB.
  $ hvci scan --format github --pdb out/ --source-root . out/
      GitHub Actions annotations (::error file=src/rx.c,line=16,…) on pull requests.
  $ hvci scan --db results.sqlite -f jsonl -o drivers.jsonl DriverStore/
      Keep every driver's report in SQLite; a re-run analyses only new files (and resumes after Ctrl-C).
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
  2  usage error (bad option, config or baseline; -o onto an input or a PE file)
  3  some inputs could not be analysed, or only partly (and no findings at the --fail-on level)
  4  the report could not be written (-o), or an internal error

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

/**
 * One less than the cores: the main thread reads, hashes and writes while workers analyse, and
 * each worker pays its own start-up (module load, WebAssembly, JIT warm-up). On 2 cores, two
 * workers took ~45% more CPU than one thread for between 10% less and 15% more wall time.
 */
const DEFAULT_JOBS = Math.max(1, availableParallelism() - 1);

function jobsArg(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 256) throw new InvalidArgumentError(`"${value}" is not a number of jobs (1 to 256)`);
  return n;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function sourceMapArg(value: string, previous: Array<{ from: string; to: string }> = []): Array<{ from: string; to: string }> {
  const at = value.lastIndexOf('=');
  if (at <= 0 || at === value.length - 1) throw new InvalidArgumentError(`"${value}" is not a source map: write FROM=TO, e.g. "D:\\a\\drv=."`);
  return [...previous, { from: value.slice(0, at), to: value.slice(at + 1) }];
}

function shardArg(value: string): Shard {
  const shard = parseShard(value);
  if (!shard) throw new InvalidArgumentError(`"${value}" is not a shard: write K/N with 1 <= K <= N, e.g. 2/8`);
  return shard;
}

/** Largest --max-file-size: a whole input is held in one typed array. */
const MAX_INPUT_SIZE = Math.min(bufferConstants.MAX_LENGTH, 4 * 1024 ** 3 - 1);

function sizeArg(value: string): number {
  const m = /^(\d+)\s*([kmg]i?b?)?$/i.exec(value.trim());
  if (!m) throw new InvalidArgumentError(`"${value}" is not a size (e.g. 64MiB)`);
  const unit = (m[2] ?? '').toLowerCase()[0];
  const mult = unit === 'k' ? 1024 : unit === 'm' ? 1024 ** 2 : unit === 'g' ? 1024 ** 3 : 1;
  const size = Number(m[1]) * mult;
  if (!Number.isSafeInteger(size) || size < 1 || size > MAX_INPUT_SIZE) {
    throw new InvalidArgumentError(`"${value}" is out of range: between 1 byte and ${MAX_INPUT_SIZE} bytes (4 GiB; a PE image cannot be larger)`);
  }
  return size;
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
    .addOption(new Option('-f, --format <format>', 'report format').choices(['text', 'json', 'jsonl', 'sarif', 'html', 'github']).default('text'))
    .option('-o, --output <file>', 'write the report to a file instead of stdout')
    .option('--root <dir>', 'SARIF and github: file locations are relative to this directory (default: the current one)')
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
    .option('-v, --verbose', 'also list every call site checked (compatible ones too), the rules not applied and why, and tolerated structural problems')
    .option('--no-color', 'never colour the output (NO_COLOR is honoured too)')
    .option('--max-file-size <size>', 'skip files larger than this', sizeArg, 256 * 1024 * 1024)
    .option('-c, --config <file>', `config file: target OS, severities per rule, ignored paths, suppressions (default: ./${'hvci.config.json'} if present)`)
    .option('--baseline <report.json>', 'a previous JSON report: findings already in it are reported as baseline and do not fail the scan')
    .option('--blocklist <file.xml>', "Microsoft's driver block rules (SiPolicy XML) to use instead of the bundled copy")
    .option('-j, --jobs <n>', `analyse in n worker threads (default: one less than the number of cores, here ${DEFAULT_JOBS}; 1 = in process)`, jobsArg, DEFAULT_JOBS)
    .option('--image-only', 'image checks only (sections, relocations, imports, signature, blocklist): no code is decoded; fast triage of huge corpora')
    .option('--db <results.sqlite>', 'store each file\'s report in this SQLite database (created if missing) and reuse the reports stored for files scanned before')
    .option('--shard <k/n>', 'scan only shard k of n (files chosen by a hash of their path; run n shards with the same arguments)', shardArg)
    .option('--pdb <path>', "a driver's PDB, or a directory of PDBs (repeatable): findings get source file, line and function; used only when its GUID and age match the driver", collect)
    .option('--no-pdb-lookup', "do not look for <driver>.pdb beside the driver or at the path in its debug record")
    .option('--source-root <dir>', "the checkout the PDB's source files are in, for PDBs built elsewhere (D:\\a\\drv\\src\\rx.c → <dir>/src/rx.c)")
    .option('--source-map <from=to>', 'a build path prefix and where it is here (repeatable), e.g. "D:\\a\\drv=."', sourceMapArg)
    .addHelpText('after', EXAMPLES)
    .action(async (paths: string[], flags: ScanFlags, command: Command) => {
      const { runScanCommand } = await import('./scan-run.js');
      process.exitCode = await runScanCommand(paths, flags, command);
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
      const { runExplain, UsageError } = await import('./explain-command.js');
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
      const [{ runSystem }, { UsageError }, { writeFile }] = await Promise.all([
        import('./system-command.js'),
        import('./explain-command.js'),
        import('node:fs/promises'),
      ]);
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
    .action(async (id: string | undefined) => {
      const { runRulesCommand } = await import('./rules-command.js');
      process.exitCode = runRulesCommand(id);
    });

  program.addHelpText('after', EXAMPLES);
  return program;
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
      // One line; the stack only on request (HVCI_DEBUG=1), for a bug report.
      const message = e instanceof Error ? e.message : String(e);
      process.stderr.write(`hvci: internal error: ${visible(message)} (please report it; HVCI_DEBUG=1 shows where)\n`);
      if (process.env.HVCI_DEBUG && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
      process.exitCode = ExitCode.output;
    }
  }
}

await main();
