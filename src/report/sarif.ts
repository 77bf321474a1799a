/**
 * SARIF 2.1.0 log for GitHub code scanning, Azure DevOps and other SARIF viewers, built
 * from the same ScanReport as the text and JSON reports. Pure: the CLI decides how file
 * paths become URIs (`locate`) and where the log goes.
 *
 * Shape (after BinSkim): `tool.driver.rules[]` from the rule metadata it is given (the
 * renderer never imports the registry, so it does not pull the rules and the decoder in); one result
 * per finding with ruleId/ruleIndex/level, a message that stands on its own (text, plus
 * id + arguments against the rule's messageStrings), a physical location with a byte
 * region (a binary has no lines), RVA/section/function in the message and properties, and
 * `partialFingerprints` that survive rebuilds. Files that could not be analysed become
 * tool execution notifications, not results. Suppressed and baseline findings are kept as
 * results with `suppressions` / `baselineState`, the way viewers expect.
 */
import type * as Sarif from 'sarif';
import { renderRuleDoc } from '../rules/docs.js';
import type { RuleMeta, Severity } from '../rules/types.js';
import { SARIF_FINGERPRINT_KEY } from './fingerprint.js';
import type { FileReport, Finding, ScanReport } from './model.js';
import { indentedJson, type ReportHead, type ReportWriter, renderWith } from './writer.js';
import { hex } from '../pe/index.js';

export const SARIF_SCHEMA_URI = 'https://json.schemastore.org/sarif-2.1.0.json';
/** The uriBaseId that result locations are relative to (the scan root). */
export const SCAN_ROOT_ID = 'SCANROOT';

export interface SarifLocation {
  uri: string;
  uriBaseId?: string;
}

export interface SarifOptions {
  /** How a report path becomes an artifact URI; default: the path with forward slashes. */
  locate?: (path: string) => SarifLocation;
  /** Absolute `file:` URI of the scan root, ending in "/" (originalUriBaseIds.SCANROOT). */
  rootUri?: string;
  /** Rules to describe (their metadata; the CLI passes the registry's). */
  rules: readonly { meta: RuleMeta }[];
  /** Base URL of the rule pages; `<id>.md` is appended. */
  helpBaseUri?: string;
  /**
   * How a finding's source file (from the driver's PDB) becomes a URI; undefined when the
   * file is not here (a build machine's path). Without it results stay on the binary.
   */
  locateSource?: (file: string) => SarifLocation | undefined;
}

const LEVEL: Record<Severity, Sarif.ReportingConfiguration.level> = { error: 'error', warning: 'warning', note: 'note' };
/** GitHub code scanning ranks alerts tagged "security" by this score (0–10). */
const SECURITY_SEVERITY: Record<Severity, string> = { error: '7.5', warning: '5.0', note: '2.0' };
/** Bytes of one section header, relocation entry. */
const SECTION_HEADER_SIZE = 40;
const RELOCATION_ENTRY_SIZE = 2;

export function defaultHelpBaseUri(version: string): string {
  return `https://unpkg.com/hvci@${version}/docs/rules/`;
}

/** Renders the scan as a SARIF 2.1.0 log (JSON text). */
export function renderSarif(report: ScanReport, options: SarifOptions): string {
  return renderWith(sarifWriter(options), report);
}

/** The log as an object (tests, library users). */
export function toSarif(report: ScanReport, options: SarifOptions): Sarif.Log {
  return JSON.parse(renderSarif(report, options)) as Sarif.Log;
}

/**
 * SARIF, streamed: results are written as files arrive; the artifacts (one small entry per
 * file), the invocation with its notifications and the tool with its rules come after them —
 * key order means nothing in JSON, and a rule id met only in a finding still gets a descriptor.
 */
export function sarifWriter(options: SarifOptions): ReportWriter {
  const locate = options.locate ?? ((path: string) => ({ uri: path.replace(/\\/g, '/') }));
  const metas = options.rules.map((r) => r.meta);
  const ruleIndex = new Map(metas.map((m, i) => [m.id, i]));
  const artifacts: Sarif.Artifact[] = [];
  const artifactIndex = new Map<string, number>();
  const notifications: Sarif.Notification[] = [];
  const notApplied = new NotAppliedNotes();
  let results = 0;
  let tool: ReportHead['tool'] | undefined;

  const artifactLocation = (path: string): Sarif.ArtifactLocation => {
    const loc = locate(path);
    let index = artifactIndex.get(path);
    if (index === undefined) {
      index = artifacts.length;
      artifactIndex.set(path, index);
      artifacts.push({ location: withBase(loc), roles: ['analysisTarget'] });
    }
    return { ...withBase(loc), index };
  };
  const knowRule = (f: Finding) => {
    if (ruleIndex.has(f.ruleId)) return;
    ruleIndex.set(f.ruleId, metas.length);
    metas.push({ id: f.ruleId, defaultSeverity: f.severity, docs: { title: f.ruleId, description: f.message, resolution: f.fix, ruleBook: '-' }, messages: {} });
  };
  const emit = (r: Sarif.Result) => {
    const text = indentedJson(r, 8);
    return `${results++ === 0 ? '' : ','}\n        ${text}`;
  };

  return {
    begin: (head) => {
      tool = head.tool;
      return `{\n  "$schema": ${JSON.stringify(SARIF_SCHEMA_URI)},\n  "version": "2.1.0",\n  "runs": [\n    {\n      "results": [`;
    },
    file: (file) => {
      const location = artifactLocation(file.path);
      const artifact = artifacts[location.index as number] as Sarif.Artifact;
      artifact.length = file.size;
      if (file.sha256) artifact.hashes = { 'sha-256': file.sha256 };
      if (file.status === 'error') {
        notifications.push({
          level: 'error',
          message: { text: `${file.path}: could not be analysed: ${file.error ?? 'unknown error'}` },
          descriptor: { id: file.errorCode ?? 'ANALYSIS_FAILED' },
          locations: [{ physicalLocation: { artifactLocation: location } }],
        });
        return '';
      }
      for (const i of file.incompleteAnalysis ?? []) {
        notifications.push({
          level: 'warning',
          message: { text: `${file.path}: analysis incomplete (${i.ruleId ?? i.part}): ${i.reason}` },
          descriptor: { id: 'ANALYSIS_INCOMPLETE' },
          ...(i.ruleId ? { associatedRule: { id: i.ruleId } } : {}),
          locations: [{ physicalLocation: { artifactLocation: location } }],
        });
      }
      for (const n of file.rulesNotApplied ?? []) notApplied.add(n.ruleId, n.reason, file.path, location);
      const out: string[] = [];
      for (const f of file.findings) {
        knowRule(f);
        out.push(emit(withSourceLocation(result(f, file, location, ruleIndex, metas, undefined), f, options.locateSource)));
      }
      for (const f of file.suppressed ?? []) {
        knowRule(f);
        out.push(emit(withSourceLocation(result(f, file, location, ruleIndex, metas, f.suppression), f, options.locateSource)));
      }
      return out.join('');
    },
    end: (tail) => {
      notifications.push(...notApplied.notifications(ruleIndex));
      for (const w of tail.walkErrors) {
        notifications.push({ level: 'error', message: { text: `${w.path}: ${w.error}` }, descriptor: { id: 'UNREADABLE_PATH' } });
      }
      const t = tool ?? { name: 'hvci', version: '0.0.0', informationUri: '' };
      const helpBase = options.helpBaseUri ?? defaultHelpBaseUri(t.version);
      const rest: Record<string, unknown> = {
        artifacts,
        invocations: [
          {
            executionSuccessful: true,
            exitCode: tail.summary.exitCode,
            toolExecutionNotifications: notifications,
            properties: { targetOs: tail.summary.targetOs, failOn: tail.summary.failOn },
          },
        ],
        columnKind: 'utf16CodeUnits',
        properties: { summary: tail.summary },
        ...(options.rootUri
          ? { originalUriBaseIds: { [SCAN_ROOT_ID]: { uri: options.rootUri, description: { text: 'The directory hvci scan was run from.' } } } }
          : {}),
        tool: {
          driver: {
            name: t.name,
            version: t.version,
            semanticVersion: t.version,
            informationUri: t.informationUri,
            rules: metas.map((m) => ruleDescriptor(m, helpBase)),
          },
        },
      };
      const fields = Object.entries(rest).map(([k, v]) => `,\n      ${JSON.stringify(k)}: ${indentedJson(v, 6)}`);
      return `${results === 0 ? ']' : '\n      ]'}${fields.join('')}\n    }\n  ]\n}\n`;
    },
  };
}

function withBase(loc: SarifLocation): Sarif.ArtifactLocation {
  return loc.uriBaseId === undefined ? { uri: loc.uri } : { uri: loc.uri, uriBaseId: loc.uriBaseId };
}

/** "execute-write-section" → "ExecuteWriteSection" (SARIF rule names are identifiers). */
export function ruleName(id: string): string {
  return id.replace(/(^|-)([a-z0-9])/g, (_m, _dash: string, c: string) => c.toUpperCase());
}

function ruleDescriptor(meta: RuleMeta, helpBase: string): Sarif.ReportingDescriptor {
  const d = meta.docs;
  return {
    id: meta.id,
    name: ruleName(meta.id),
    shortDescription: { text: d.title },
    fullDescription: { text: d.description },
    help: { text: `${d.resolution}\n\nSee ${helpBase}${meta.id}.md`, markdown: renderRuleDoc(meta) },
    helpUri: `${helpBase}${meta.id}.md`,
    messageStrings: Object.fromEntries(Object.entries(meta.messages).map(([id, template]) => [id, { text: positional(template as string).text }])),
    defaultConfiguration: { level: LEVEL[meta.defaultSeverity] },
    properties: {
      tags: ['security', 'hvci', 'windows-driver'],
      precision: 'very-high',
      'problem.severity': meta.defaultSeverity === 'note' ? 'recommendation' : meta.defaultSeverity,
      'security-severity': SECURITY_SEVERITY[meta.defaultSeverity],
    },
  };
}

/** Our "{name}" templates as SARIF's "{0}" ones, with the argument names in order. */
function positional(template: string): { text: string; names: string[] } {
  const names: string[] = [];
  const escaped = template.replace(/[{}]/g, (c) => c + c); // SARIF: literal braces are doubled
  const text = escaped.replace(/\{\{(\w+)\}\}/g, (_m, name: string) => {
    let i = names.indexOf(name);
    if (i < 0) i = names.push(name) - 1;
    return `{${i}}`;
  });
  return { text, names };
}

function result(
  f: Finding,
  file: FileReport,
  artifactLocation: Sarif.ArtifactLocation,
  ruleIndex: ReadonlyMap<string, number>,
  metas: readonly RuleMeta[],
  suppression: Finding['suppression'],
): Sarif.Result {
  const index = ruleIndex.get(f.ruleId) as number;
  const template = (metas[index]?.messages as Record<string, string> | undefined)?.[f.messageId];
  const fn = functionOf(f);
  const where = [
    f.rva === undefined ? undefined : `RVA ${hex(f.rva)}`,
    f.section === undefined ? undefined : `section ${f.section === '' ? '(unnamed)' : f.section}`,
    fn === undefined ? undefined : `function ${fn}`,
    f.source?.file === undefined ? undefined : `source ${f.source.file}${f.source.line === undefined ? '' : `:${f.source.line}`}`,
    f.fileOffset === undefined ? undefined : `file offset ${hex(f.fileOffset)}`,
  ].filter(Boolean);
  const text = `${baseName(file.path)}: ${f.message}${where.length ? ` At ${where.join(', ')}.` : ''} Fix: ${f.fix}`;
  const message: Sarif.Message = { text };
  if (template !== undefined) {
    message.id = f.messageId;
    message.arguments = positional(template).names.map((n) => String(f.arguments[n] ?? ''));
  }
  const physicalLocation: Sarif.PhysicalLocation = { artifactLocation };
  if (f.fileOffset !== undefined) physicalLocation.region = { byteOffset: f.fileOffset, byteLength: byteLengthOf(f) };
  const r: Sarif.Result = {
    ruleId: f.ruleId,
    ruleIndex: index,
    level: LEVEL[f.severity],
    message,
    locations: [
      {
        physicalLocation,
        ...(fn === undefined ? {} : { logicalLocations: [{ name: fn, kind: 'function' }] }),
      },
    ],
    properties: {
      ...(f.rva === undefined ? {} : { rva: hex(f.rva) }),
      ...(f.section === undefined ? {} : { section: f.section }),
      ...(fn === undefined ? {} : { function: fn }),
      severity: f.severity,
      fix: f.fix,
      docs: f.docs,
      ...(f.evidence === undefined ? {} : { evidence: f.evidence }),
    },
  };
  if (f.fingerprint) r.partialFingerprints = { [SARIF_FINGERPRINT_KEY]: f.fingerprint };
  if (suppression) {
    r.suppressions = [{ kind: 'external', status: 'accepted', justification: suppression.reason }];
    if (suppression.kind === 'baseline') r.baselineState = 'unchanged';
  }
  return r;
}

function functionOf(f: Finding): string | undefined {
  const fn = f.evidence?.function ?? f.source?.function;
  return typeof fn === 'string' ? fn : undefined;
}

/**
 * A finding with a source line (from the PDB): the result's location becomes the source
 * file and line, so code scanning marks the line; the binary location stays as a related
 * location.
 */
function withSourceLocation(r: Sarif.Result, f: Finding, locateSource: SarifOptions['locateSource']): Sarif.Result {
  const file = f.source?.file;
  const line = f.source?.line;
  const where = file === undefined || line === undefined ? undefined : locateSource?.(file);
  const binary = r.locations?.[0];
  if (!where || !binary) return r;
  const fn = functionOf(f);
  return {
    ...r,
    locations: [
      {
        physicalLocation: { artifactLocation: withBase(where), region: { startLine: line } },
        ...(fn === undefined ? {} : { logicalLocations: [{ name: fn, kind: 'function' }] }),
      },
    ],
    relatedLocations: [{ id: 1, physicalLocation: binary.physicalLocation as Sarif.PhysicalLocation, message: { text: 'The driver binary: the instruction the finding is about.' } }],
    properties: { ...r.properties, source: f.source },
  };
}

/** How many bytes the finding points at: a section header, a relocation entry, an instruction. */
function byteLengthOf(f: Finding): number {
  const ev = f.evidence ?? {};
  if (typeof ev.length === 'number' && ev.length > 0) return ev.length;
  if (ev.relocation !== undefined) return RELOCATION_ENTRY_SIZE;
  const header = (ev.section as { headerFileOffset?: unknown } | undefined)?.headerFileOffset;
  if (typeof header === 'string' && Number(header) === f.fileOffset) return SECTION_HEADER_SIZE;
  if (typeof ev.field === 'string' && ev.field.startsWith('IMAGE_OPTIONAL_HEADER.')) return 4;
  return 1;
}

function baseName(path: string): string {
  return path.replace(/\\/g, '/').split('/').pop() || path;
}

/** Files listed in one RULE_NOT_APPLICABLE notification; the JSON report has every file's list. */
const NOT_APPLIED_LOCATIONS = 10;

/**
 * Rules not applied (BinSkim's NotApplicable), one note per rule and reason rather than per
 * file: a DriverStore scan has thousands of user-mode DLLs, each with a dozen rules that do
 * not apply, and the notes would otherwise grow with the scan (and drown the real ones).
 * Each note names how many files, and the first few.
 */
class NotAppliedNotes {
  private readonly groups = new Map<string, { ruleId: string; reason: string; count: number; firstPath: string; locations: Sarif.Location[] }>();

  add(ruleId: string, reason: string, path: string, location: Sarif.ArtifactLocation): void {
    const key = `${ruleId}\n${reason}`;
    let g = this.groups.get(key);
    if (!g) {
      g = { ruleId, reason, count: 0, firstPath: path, locations: [] };
      this.groups.set(key, g);
    }
    g.count++;
    if (g.locations.length < NOT_APPLIED_LOCATIONS) g.locations.push({ physicalLocation: { artifactLocation: location } });
  }

  notifications(ruleIndex: ReadonlyMap<string, number>): Sarif.Notification[] {
    return [...this.groups.values()].map((g) => {
      const index = ruleIndex.get(g.ruleId);
      const text =
        g.count === 1
          ? `${g.firstPath}: rule ${g.ruleId} not applied: ${g.reason}`
          : `rule ${g.ruleId} not applied to ${g.count} files${g.count > NOT_APPLIED_LOCATIONS ? ` (the first ${NOT_APPLIED_LOCATIONS} are listed; the JSON report lists every file's)` : ''}: ${g.reason}`;
      return {
        level: 'note',
        message: { text },
        descriptor: { id: 'RULE_NOT_APPLICABLE' },
        associatedRule: { id: g.ruleId, ...(index !== undefined ? { index } : {}) },
        locations: g.locations,
        properties: { fileCount: g.count },
      };
    });
  }
}
