/**
 * `hvci explain`: what Windows said, what it means for Memory Integrity (HVCI), which of our
 * rules it corresponds to, and what to change. Pure text in, explanations out; reading
 * files and stdin, and locating a caller address in a driver, happen in src/cli.
 *
 * Recognised (rule book §5–§7; samples in ../shared/data/windows-outputs):
 *   bugcheck-c4            bug check 0xC4 as `!analyze -v` text, a pasted Arg list, the
 *                          `BugCheck C4, {…}` line, or just numbers ("c4 2000 fffff… 0 484d454d")
 *   verifier-message       "Verifier Detected a Code Integrity Issue" and its message lines
 *   verifier-flags         `!verifier` / `verifier /querysettings` flag lists (is 0x02000000 on?)
 *   verifier-counters      code-integrity counters (ExecutePoolTypes …) from `verifier /query`
 *   hvciscan               hvciscan.exe output (format documented by third parties only)
 *   dg-readiness           DG_Readiness_Tool -Capable output (driver compatibility step)
 *   deviceguard-wmi        Win32_DeviceGuard (Get-CimInstance) properties
 *   computerinfo           Get-ComputerInfo DeviceGuard* properties
 *   codeintegrity-event    Microsoft-Windows-CodeIntegrity/Operational events
 *   incompatible-drivers   "Review incompatible drivers" lists (driver .sys / oemNN.inf)
 *   pnputil                `pnputil -e` driver package lists (any language)
 */
import { detectBugcheck } from './detectors/bugcheck.js';
import { detectCodeIntegrityEvent } from './detectors/codeintegrity-event.js';
import { detectComputerInfo, detectDeviceGuard } from './detectors/device-guard.js';
import { detectIncompatibleDrivers, detectPnputil } from './detectors/driver-lists.js';
import { detectDgReadiness, detectHvciScan } from './detectors/readiness.js';
import { detectVerifierCounters, detectVerifierFlags, detectVerifierMessage } from './detectors/verifier.js';
import type { Detector, Explanation } from './explanation.js';

export type { DecodedValue, ExplainKind, Explanation } from './explanation.js';

/** All explanations found in the text, most specific first; empty when nothing is recognised. */
export function explain(text: string): Explanation[] {
  const t = text.replace(/\r\n?/g, '\n');
  const out: Explanation[] = [];
  for (const detect of DETECTORS) {
    const e = detect(t);
    if (e) out.push(e);
  }
  return out;
}

/** In order: the most specific formats first. */
const DETECTORS: readonly Detector[] = [
  detectBugcheck,
  detectVerifierMessage,
  detectVerifierFlags,
  detectVerifierCounters,
  detectHvciScan,
  detectDgReadiness,
  detectDeviceGuard,
  detectComputerInfo,
  detectCodeIntegrityEvent,
  detectIncompatibleDrivers,
  detectPnputil,
];
