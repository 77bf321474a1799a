/**
 * What the call-site analysis finds: each checked call, the values that reach its deciding
 * argument, their verdicts and the path they take. Data only (call-analysis.ts computes it).
 */
import type { ApiClass, CallRuleId, ApiArgument } from './api-table.js';
import type { CallForm } from './call-sites.js';
import type { NxOptIn } from './nx-optin.js';

export type ValueVerdict = 'executable' | 'non-executable' | 'nx-optin' | 'unresolved';

export interface EvidenceInstruction {
  rva: number;
  fileOffset?: number;
  text: string;
}

/** One step of the path from the function that supplies a value to the API call. */
export interface PathStep {
  function: string;
  functionRva: number;
  /** The call instruction in that function (to the next step's function, or to the API). */
  callRva: number;
}

export interface ResolvedValue {
  verdict: ValueVerdict;
  /** Symbolic value when known: "NonPagedPool (0x0)". */
  value?: string;
  /** The number itself, hex ("0x0"), when known. */
  raw?: string;
  /** Where it comes from: "constant", "global 0x3000 (.data)", "unknown". */
  origin: string;
  /** Why it is unresolved or how it was decided. */
  reason?: string;
  /** Instructions that produce the value (in execution order), across the path. */
  instructions: EvidenceInstruction[];
  /** Outermost caller first; the last step is the API call itself. */
  path: PathStep[];
  /** Windows-version tests on the value's path, nearest the value first. */
  conditions?: ValueCondition[];
}

/** A Windows-version test that chose a value (dataflow Condition, with the test's text). */
export interface ValueCondition {
  /** The setcc / cmovcc / sbb / conditional jump that chose. */
  rva: number;
  /** The cmp/test it read, and its text. */
  testRva: number;
  test: string;
  /** Whether the condition code held on this value's path. */
  held: boolean;
  /** "NTDDI 0xa000000" or "RtlIsNtDdiVersionAvailable(0x6020000)". */
  version: string;
  /** true: every Windows with Memory Integrity takes this path; false: none does; absent: the binary does not tell. */
  onHvci?: boolean;
  /** A version API's test: the NTDDI version it asks about and whether this path is where it returned TRUE. */
  api?: { name: string; ntddi: number; returnedTrue: boolean };
}

export type CallVerdict = 'executable' | 'unresolved' | 'compatible';

/** What a context argument (ApiSpec.context) says about an executable request. */
export interface CallContext {
  argument: { index: number; name: string };
  /** What it holds: "UserMode (1)", "NtCurrentProcess() (-1)", "sub_1040", "global 0x3000". */
  value: string;
  /** downgrade: a warning, not an error; confirm: the error stands. */
  effect: 'downgrade' | 'confirm';
  reason: string;
}

export interface CheckedCall {
  api: string;
  dll: string;
  cls: ApiClass;
  rule: CallRuleId;
  callRva: number;
  fileOffset?: number;
  section?: string;
  function: string;
  functionRva: number;
  form: CallForm;
  /** Thunk start or the load of the IAT slot (register form). */
  viaRva?: number;
  /** The call is the expansion of an inline macro. */
  inline?: 'MmGetSystemAddressForMdlSafe';
  argument?: ApiArgument;
  verdict: CallVerdict;
  /** Severity the rule should use (undefined: the call is compatible). */
  severity?: 'error' | 'warning' | 'note';
  /** Class D: executable whatever the arguments. */
  alwaysExecutable?: boolean;
  values: ResolvedValue[];
  /** Disassembly of the call instruction. */
  callText: string;
  /** The fix, in one sentence. */
  fix: string;
  /** Set for executable calls of APIs with a context argument (user-mode target, custom allocator). */
  context?: CallContext;
  /**
   * Set when an executable and a non-executable value are chosen by one Windows-version test
   * that the binary cannot decide (the compared version is set at run time): a warning that
   * shows both values, not an error.
   */
  versionChoice?: ValueCondition;
}

export interface CallAnalysis {
  supported: true;
  machine: 'x86' | 'x64' | 'arm64';
  /** Every call of a table API, compatible ones included (for --verbose / JSON). */
  calls: CheckedCall[];
  nxOptIn?: NxOptIn;
}
