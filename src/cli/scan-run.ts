/**
 * `hvci scan`: config, baseline and block rules, then a streamed scan into the chosen report
 * format. Loaded only when the scan command runs (main.ts imports it lazily), so
 * `hvci --version` and `hvci rules` never load the analyser.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { applyPolicyToFile, ConfigError } from '../config/index.js';
import { githubWriter } from '../report/github.js';
import { htmlWriter } from '../report/html.js';
import { jsonlWriter, jsonWriter } from '../report/json.js';
import type { FileReport } from '../report/model.js';
import { sarifWriter } from '../report/sarif.js';
import { ExitCode, type FailOn, SummaryCounter } from '../report/summary.js';
import { visible } from '../report/terminal-safe.js';
import { textWriter } from '../report/text.js';
import type { ReportWriter } from '../report/writer.js';
import { rules } from '../rules/index.js';
import { parseTargetOs, TARGET_OS_NAMES, type TargetOs } from '../rules/target-os.js';
import { INFORMATION_URI, TOOL_NAME, TOOL_VERSION } from '../version.js';
import { checkOutputPath, fileSink, githubPaths, OutputPathError, renderFileSafely, type ReportSink, sarifPaths, stdoutSink } from './output.js';
import { ignoreFilter, loadBaseline, loadBlocklist, loadConfig, relativePath } from './policy-files.js';
import { openResultsDb, type ResultsDb, ResultsDbError, scanStoreSettings } from './results-db.js';
import { scanEach } from './scan-command.js';
import { samePdbAsStored, type SourceSettings } from './pdb-lookup.js';
import type { ScanProgress } from './scan-progress.js';
import type { Shard } from './shard.js';
import { describe } from './walk.js';
import './node-digests.js'; // native digests for the core (src/digest)

export interface ScanFlags {
  format: 'text' | 'json' | 'jsonl' | 'sarif' | 'html' | 'github';
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
  imageOnly?: boolean;
  shard?: Shard;
  jobs: number;
  /** --pdb (repeatable): PDB files or directories. */
  pdb?: string[];
  /** --no-pdb-lookup sets it false. */
  pdbLookup: boolean;
  sourceRoot?: string;
  sourceMap?: Array<{ from: string; to: string }>;
  db?: string;
}

/** Runs the scan command; returns the exit code. Usage problems are one line on stderr and exit 2. */
export async function runScanCommand(paths: string[], flags: ScanFlags, command: Command): Promise<number> {
  try {
    if (flags.output !== undefined) await checkOutputPath(flags.output, paths);
    // A --pdb that is not there is a typo, not a driver without a PDB: say so before scanning.
    for (const p of [...(flags.pdb ?? []), ...(flags.sourceRoot === undefined ? [] : [flags.sourceRoot])]) {
      if (!existsSync(p)) throw new ConfigError(`${p === flags.sourceRoot ? '--source-root' : '--pdb'} ${p}: no such file or directory`);
    }
    return await runScan(paths, await withConfig(flags, command));
  } catch (e) {
    if (!(e instanceof ConfigError) && !(e instanceof OutputPathError) && !(e instanceof ResultsDbError)) throw e;
    process.stderr.write(`hvci: ${e.message.split('\n').join('\nhvci: ')}\n`);
    return ExitCode.usage;
  }
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
  const baseline = flags.baseline === undefined ? undefined : await loadBaseline(flags.baseline);
  const blocklist = flags.blocklist === undefined ? undefined : await loadBlocklist(flags.blocklist);
  const config = flags.loaded.config;
  const ignore = ignoreFilter(config);
  const policy = config || baseline ? { ...(config ? { config } : {}), ...(baseline ? { baseline } : {}), relativePath } : undefined;
  const toFile = flags.output !== undefined;
  const writer = reportWriter(flags, !toFile && useColor(process.stdout, flags));
  const db = flags.db === undefined ? undefined : await openResultsDb(flags.db, await scanStoreSettings(flags.targetOs.minBuild, flags.blocklist, storeKeyOptions(flags)));
  const releaseDb = db ? commitOnSignal(db) : undefined;
  try {
    return await scanInto(paths, flags, { writer, toFile, policy, ignore, blocklist, db });
  } finally {
    releaseDb?.();
    db?.close();
  }
}

interface ScanParts {
  writer: ReportWriter;
  toFile: boolean;
  policy: Parameters<typeof applyPolicyToFile>[1] | undefined;
  ignore: ((path: string) => boolean) | undefined;
  blocklist: Awaited<ReturnType<typeof loadBlocklist>> | undefined;
  db: ResultsDb | undefined;
}

async function scanInto(paths: string[], flags: ResolvedFlags, { writer, toFile, policy, ignore, blocklist, db }: ScanParts): Promise<number> {
  const stderr = process.stderr;
  const errorColor = useColor(stderr, flags);
  let sink: ReportSink;
  try {
    sink = toFile ? await fileSink(flags.output as string) : stdoutSink();
  } catch (e) {
    stderr.write(`hvci: cannot write the report to ${visible(flags.output as string)}: ${visible(describe(e))}\n`);
    return ExitCode.output;
  }
  const filter = { ...(ignore ? { ignore } : {}), ...(flags.shard ? { shard: flags.shard } : {}) };
  const sources = sourceSettings(flags);
  const progress = stderr.isTTY === true && !flags.quiet ? await startProgress(stderr, paths, filter) : undefined;
  const clearProgress = () => progress?.clear();
  // Each file's report is written as soon as it is made; only the summary counts stay.
  const counter = new SummaryCounter(flags.failOn);
  try {
    await sink.write(writer.begin({ tool: { name: TOOL_NAME, version: TOOL_VERSION, informationUri: INFORMATION_URI } }));
    const outcome = await scanEach(
      paths,
      {
        ...filter,
        ...(blocklist ? { blocklist } : {}),
        ...(flags.imageOnly ? { imageOnly: true } : {}),
        ...(db ? { stored: (sha256: string, path: string) => db.lookup(sha256, path, (report) => samePdbAsStored(sources, report)) } : {}),
        jobs: flags.jobs,
        sources,
        targetOs: flags.targetOs,
        failOn: flags.failOn,
        maxFileSize: flags.maxFileSize,
        onError: (file: FileReport) => {
          clearProgress();
          stderr.write(`${errorColor ? '\x1b[35mhvci:\x1b[0m' : 'hvci:'} ${visible(file.path)}: ${visible(file.error ?? '')}\n`);
        },
      },
      async (raw) => {
        db?.save(raw);
        progress?.fileDone(raw.size);
        const rendered = renderFileSafely(writer, policy ? applyPolicyToFile(raw, policy) : raw);
        counter.add(rendered.file);
        if (!toFile && process.stdout.isTTY) clearProgress();
        await sink.write(rendered.text);
      },
    );
    progress?.stop();
    const { walk } = outcome;
    for (const w of walk.errors) stderr.write(`hvci: ${visible(w.path)}: ${visible(w.error)}\n`);
    if (flags.verbose) for (const w of walk.special) stderr.write(`hvci: ${visible(w.path)}: ${visible(w.reason)}\n`);
    const summary = counter.summary({ skipped: walk.skipped, targetOs: flags.targetOs.name, walkErrors: walk.errors.length, ignored: outcome.ignored });
    if (flags.shard) summary.shard = `${flags.shard.index}/${flags.shard.count}`;
    if (db) {
      summary.reused = db.reused;
      if (!flags.quiet) stderr.write(`hvci: ${visible(flags.db as string)}: ${db.reused} file(s) taken from the database, ${db.stored} analysed and stored\n`);
    }
    await sink.write(writer.end({ walkErrors: walk.errors, ...(walk.special.length > 0 ? { skippedFiles: walk.special } : {}), summary }));
    await sink.close();
    return summary.exitCode;
  } catch (e) {
    progress?.stop();
    await sink.abort();
    if (e instanceof ResultsDbError) {
      stderr.write(`hvci: ${visible(e.message)}\n`);
      return ExitCode.output;
    }
    if (!toFile) throw e;
    stderr.write(`hvci: cannot write the report to ${visible(flags.output as string)}: ${visible(describe(e))}\n`);
    return ExitCode.output;
  }
}

/** The progress bars (only on a terminal: cli-progress is not loaded otherwise). */
async function startProgress(stderr: NodeJS.WriteStream, paths: string[], filter: Parameters<typeof import('./scan-progress.js').countScanInputs>[1]): Promise<ScanProgress> {
  const { countScanInputs, ScanProgress } = await import('./scan-progress.js');
  return new ScanProgress(stderr, countScanInputs(paths, filter));
}

/** What else goes into --db's key: --image-only, and the source options when any is given. */
function storeKeyOptions(flags: ScanFlags): { imageOnly?: boolean; sources?: string } {
  const explicit = (flags.pdb ?? []).length > 0 || flags.sourceRoot !== undefined || (flags.sourceMap ?? []).length > 0 || !flags.pdbLookup;
  const { pdbPaths, lookup, sourceRoot, sourceMaps } = sourceSettings(flags);
  return {
    ...(flags.imageOnly ? { imageOnly: true } : {}),
    ...(explicit ? { sources: JSON.stringify({ pdbPaths, lookup, sourceRoot, sourceMaps }) } : {}),
  };
}

function sourceSettings(flags: ScanFlags): SourceSettings {
  return {
    pdbPaths: (flags.pdb ?? []).map((p) => resolve(p)),
    lookup: flags.pdbLookup,
    ...(flags.sourceRoot !== undefined ? { sourceRoot: resolve(flags.sourceRoot) } : {}),
    sourceMaps: flags.sourceMap ?? [],
    maxFileSize: flags.maxFileSize,
  };
}

function reportWriter(flags: ScanFlags, color: boolean): ReportWriter {
  switch (flags.format) {
    case 'json':
      return jsonWriter();
    case 'jsonl':
      return jsonlWriter();
    case 'sarif':
      return sarifWriter({ ...sarifPaths(flags.root ?? process.cwd()), rules });
    case 'html':
      return htmlWriter();
    case 'github':
      return githubWriter(githubPaths(flags.root ?? process.cwd()));
    default:
      return textWriter({ color, verbose: flags.verbose === true, quiet: flags.quiet === true });
  }
}

/** Colours only on a terminal, never with NO_COLOR (any non-empty value) or --no-color. */
export function useColor(stream: NodeJS.WriteStream, flags: { color?: boolean }): boolean {
  if (flags.color === false) return false;
  if (process.env.NO_COLOR) return false;
  return stream.isTTY === true;
}

/**
 * Ctrl-C or kill (SIGTERM) during a --db scan: the pending batch is committed before the
 * process ends as the signal would end it, so a re-run resumes after the last stored file.
 */
function commitOnSignal(db: ResultsDb): () => void {
  const onSignal = (signal: NodeJS.Signals) => {
    release();
    db.close();
    process.kill(process.pid, signal);
  };
  const release = () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return release;
}
