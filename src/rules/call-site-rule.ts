/**
 * A call-site rule: one of the APIs of analysis/api-table.ts whose deciding argument can ask
 * for executable memory. `defineCallSiteRule` gives such a rule its check: the calls the
 * table assigns to it, as findings. A value that reaches the API through a wrapper is
 * reported at the caller that passes it (path[0]), with the whole path as evidence; values
 * decided inside the calling function are reported at the call.
 */
import type { CallRuleId } from '../analysis/api-table.js';
import { analyzeCalls, type CheckedCall, neverOnHvci, type ResolvedValue, type ValueCondition } from '../analysis/call-analysis.js';
import { hex, type PeImage } from '../pe/index.js';
import type { TargetOs } from './target-os.js';
import { defineRule, type FindingDetails, type MessageArguments, type Rule, type RuleContext, type RuleMeta, type Severity } from './types.js';

/** The messages every call-site rule has: a value that is executable, one not known, an API that always is. */
export type CallMessageId = 'executable' | 'unresolved' | 'always';

/**
 * A call-site rule's metadata: its id is one the API table uses, and it always reads code.
 * `always` is for rules whose table entries include class D APIs (executable whatever the
 * arguments); test/rules/registry.test.ts checks the two agree.
 */
export interface CallSiteRuleMeta extends Omit<RuleMeta<CallMessageId>, 'id' | 'requiresCode' | 'messages'> {
  id: CallRuleId;
  messages: Record<Exclude<CallMessageId, 'always'>, string> & { always?: string };
}

/** A rule driven by the API table: the glue from checked calls to findings is here, once. */
export function defineCallSiteRule(meta: CallSiteRuleMeta): Rule<CallMessageId> {
  return defineRule({
    // A class D call of a rule without `always` fails loudly in the runner (unknown message id).
    meta: { ...meta, messages: meta.messages as Record<CallMessageId, string>, requiresCode: true },
    check(image, ctx) {
      reportCallFindings(image, ctx, meta.id);
    },
  });
}


function reportCallFindings(image: PeImage, ctx: RuleContext<CallMessageId>, rule: CallRuleId): void {
  const analysis = analyzeCalls(image);
  if (!analysis.supported) return;
  for (const call of analysis.calls) {
    if (call.rule !== rule || call.verdict === 'compatible') continue;
    if (call.alwaysExecutable) {
      ctx.report(
        'always',
        { api: call.api, callRva: hex(call.callRva), function: call.function },
        details(call, call.severity ?? 'error', { rva: call.callRva, function: call.function, functionRva: call.functionRva }, undefined),
      );
      continue;
    }
    // A version API asking about a later Windows 10 release: the target OS decides the choice.
    const byTarget = call.versionChoice ? targetDecides(call.versionChoice, ctx.options.targetOs) : undefined;
    const versionWarning = call.versionChoice !== undefined && byTarget === undefined;
    // Group the values by the call that supplies them (the outermost caller on the path).
    const groups = new Map<number, ResolvedValue[]>();
    for (const v of call.values) {
      if (v.verdict !== 'executable' && v.verdict !== 'unresolved') continue;
      if (neverOnHvci(v)) continue; // only a Windows without Memory Integrity takes that path
      if (byTarget?.reached && byTarget.onFalseSide(v)) continue; // only Windows older than the target takes it
      const at = v.path[0]?.callRva ?? call.callRva;
      const list = groups.get(at);
      if (list) list.push(v);
      else groups.set(at, [v]);
    }
    for (const [at, values] of groups) {
      const bad = versionWarning ? undefined : values.find((v) => v.verdict === 'executable');
      const shown = values.find((v) => v.verdict === 'executable') ?? (values[0] as ResolvedValue);
      const step = shown.path[0] ?? { function: call.function, functionRva: call.functionRva, callRva: call.callRva };
      // Through a wrapper: name the wrapper the reported call enters, and where it calls the API.
      const callee = shown.path[1];
      const deeper = shown.path.slice(2).map((p) => p.function);
      const api = callee
        ? `${callee.function} (which calls ${call.api} at ${hex(call.callRva)}${deeper.length > 0 ? `, through ${deeper.join(' → ')}` : ''})`
        : call.api;
      const argument = `${call.argument?.name ?? 'argument'} (argument ${call.argument?.index ?? '?'})`;
      const args: MessageArguments = { api, callRva: hex(at), function: step.function, argument, through: '' };
      if (versionWarning && call.versionChoice) {
        const c = call.versionChoice;
        const side = (held: boolean): string =>
          [...new Set(call.values.filter((v) => v.conditions?.some((d) => d.rva === c.rva && d.held === held)).map((v) => v.value ?? v.raw ?? v.origin))].join(' or ');
        ctx.report(
          'unresolved',
          {
            ...args,
            origin: `a Windows version test (${c.test} at ${hex(c.testRva)}, against ${c.version})`,
            reason: `${side(c.held)} on one side, ${side(!c.held)} on the other; the binary does not tell which side Windows 10 and later take`,
          },
          details(call, 'warning', { rva: at, function: step.function, functionRva: step.functionRva }, bothSides(image, c, call.values.filter((v) => v.conditions?.some((d) => d.rva === c.rva)), shown)),
        );
        continue;
      }
      if (bad) {
        // A context argument (user-mode target, custom lookaside allocator) may make it a warning.
        const severity = call.context?.effect === 'downgrade' ? 'warning' : 'error';
        const gated = byTarget && !byTarget.reached && byTarget.onFalseSide(bad) ? `; ${byTarget.why}` : '';
        const context = call.context ? `; ${call.context.reason}${gated}` : gated;
        ctx.report(
          'executable',
          { ...args, value: bad.value ?? bad.raw ?? bad.origin, context },
          details(call, severity, { rva: at, function: step.function, functionRva: step.functionRva }, bad),
        );
      } else {
        ctx.report(
          'unresolved',
          { ...args, origin: shown.origin, reason: shown.reason ?? 'not a constant' },
          details(call, 'warning', { rva: at, function: step.function, functionRva: step.functionRva }, shown),
        );
      }
    }
  }
}

function details(call: CheckedCall, severity: Severity, where: { rva: number; function: string; functionRva: number }, value: ResolvedValue | undefined): FindingDetails {
  const evidence: Record<string, unknown> = {
    api: call.api,
    dll: call.dll,
    apiClass: call.cls,
    function: where.function,
    functionRva: hex(where.functionRva),
    call: { rva: hex(call.callRva), ...(call.fileOffset !== undefined ? { fileOffset: hex(call.fileOffset) } : {}), text: call.callText },
    apiCallFunction: { name: call.function, rva: hex(call.functionRva) },
    form: call.form,
    fix: call.fix,
  };
  if (call.viaRva !== undefined) evidence.via = hex(call.viaRva);
  if (call.inline) evidence.inlineMacro = call.inline;
  if (call.context) evidence.context = call.context;
  if (call.argument) evidence.argument = { index: call.argument.index, name: call.argument.name, kind: call.argument.kind };
  if (value) {
    evidence.value = value.value ?? null;
    evidence.origin = value.origin;
    if (value.reason) evidence.reason = value.reason;
    evidence.instructions = value.instructions.map((i) => ({
      rva: hex(i.rva),
      ...(i.fileOffset !== undefined ? { fileOffset: hex(i.fileOffset) } : {}),
      text: i.text,
    }));
    evidence.path = value.path.map((p) => ({ function: p.function, functionRva: hex(p.functionRva), callRva: hex(p.callRva) }));
  }
  if (call.versionChoice) evidence.versionChoice = conditionEvidence(call.versionChoice);
  if (call.values.length > 1) {
    evidence.allValues = call.values.map((v) => ({
      verdict: v.verdict,
      value: v.value ?? null,
      origin: v.origin,
      via: v.path.map((p) => p.function).join(' → '),
      ...(v.conditions?.length ? { conditions: v.conditions.map(conditionEvidence) } : {}),
    }));
  }
  // The runner adds the file offset and section of the RVA.
  return { rva: where.rva, evidence, severity };
}

/**
 * Windows 10 releases by the NTDDI version naming them (sdkddkver.h: NTDDI_WIN10 … NTDDI_WIN10_VB)
 * and their first build (target-os.ts). Later NTDDI values are not mapped: their choices stay warnings.
 */
const WIN10_RELEASES: ReadonlyArray<[number, string, number]> = [
  [0x0a000000, '1507', 10240],
  [0x0a000001, '1511', 10586],
  [0x0a000002, '1607', 14393],
  [0x0a000003, '1703', 15063],
  [0x0a000004, '1709', 16299],
  [0x0a000005, '1803', 17134],
  [0x0a000006, '1809', 17763],
  [0x0a000007, '1903', 18362],
  [0x0a000008, '2004', 19041],
];

/**
 * A choice on RtlIsNtDdiVersionAvailable(v) for a Windows 10 release v after 1507: every
 * Windows the driver supports (--target-os and later) has v or not. `reached`: the target is at
 * least v, so the FALSE side never runs where the driver is supported; otherwise the target
 * includes releases that have Memory Integrity and take the FALSE side.
 */
function targetDecides(c: ValueCondition, target: TargetOs): { reached: boolean; why: string; onFalseSide(v: ResolvedValue): boolean } | undefined {
  const release = c.api ? WIN10_RELEASES.find(([ntddi]) => ntddi === c.api?.ntddi) : undefined;
  if (!c.api || !release) return undefined;
  const [, name, build] = release;
  const onFalseSide = (v: ResolvedValue): boolean => v.conditions?.some((d) => d.rva === c.rva && d.api?.returnedTrue === false) ?? false;
  return {
    reached: target.minBuild >= build,
    why: `that value is chosen when ${c.api.name}(0x${c.api.ntddi.toString(16)}) is FALSE, i.e. before Windows 10 ${name} (build ${build}), and the target ${target.name} includes such releases, which have Memory Integrity`,
    onFalseSide,
  };
}

/** The shown value, with the proof of every value of the choice and the test itself, in address order. */
function bothSides(image: PeImage, c: ValueCondition, values: readonly ResolvedValue[], shown: ResolvedValue): ResolvedValue {
  const test = { rva: c.testRva, text: c.test, ...(image.space.offsetOf(c.testRva) !== undefined ? { fileOffset: image.space.offsetOf(c.testRva) as number } : {}) };
  const byRva = new Map([test, ...values.flatMap((v) => v.instructions)].map((i) => [i.rva, i]));
  return { ...shown, instructions: [...byRva.values()].sort((a, b) => a.rva - b.rva) };
}

function conditionEvidence(c: ValueCondition): Record<string, unknown> {
  return {
    rva: hex(c.rva),
    test: { rva: hex(c.testRva), text: c.test },
    version: c.version,
    held: c.held,
    ...(c.onHvci !== undefined ? { onWindowsWithMemoryIntegrity: c.onHvci ? 'always' : 'never' } : {}),
  };
}
