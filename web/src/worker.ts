/**
 * The analysis worker: the same core as the CLI (src/index.ts), with the decoder's
 * WebAssembly loaded from the page's own origin. The page stays responsive while it works.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { analyze, decoderReady, rules, TOOL_NAME, TOOL_VERSION } from '../../src/index.js';
import { htmlWriter } from '../../src/report/html.js';
import { jsonWriter } from '../../src/report/json.js';
import { errorFileReport, type FileReport, type ScanReport } from '../../src/report/model.js';
import { sarifWriter } from '../../src/report/sarif.js';
import { SummaryCounter } from '../../src/report/summary.js';
import { renderWith } from '../../src/report/writer.js';
import { DEFAULT_TARGET_OS } from '../../src/rules/target-os.js';
import { INFORMATION_URI } from '../../src/version.js';
import type { FromWorker, ReportFormat, ToWorker } from './protocol.js';

const post = (message: FromWorker) => postMessage(message);

onmessage = async (event: MessageEvent<ToWorker>) => {
  const message = event.data;
  if (message.type === 'init') {
    try {
      await decoderReady();
      post({ type: 'ready' });
    } catch (e) {
      post({ type: 'init-failed', error: e instanceof Error ? e.message : String(e) });
    }
    return;
  }
  if (message.type === 'analyze') {
    const bytes = new Uint8Array(message.bytes);
    if (message.onlyPe && !(bytes[0] === 0x4d && bytes[1] === 0x5a)) {
      post({ type: 'skipped', id: message.id });
      return;
    }
    try {
      await decoderReady();
    } catch (e) {
      // Without the decoder no file can be analysed: each says so in one line.
      const reason = `the disassembler could not be loaded: ${e instanceof Error ? e.message : String(e)}`;
      post({ type: 'analyzed', id: message.id, report: errorFileReport({ path: message.name, sha256: bytesToHex(sha256(bytes)), size: bytes.byteLength }, 'DECODER_UNAVAILABLE', reason) });
      return;
    }
    post({ type: 'analyzed', id: message.id, report: analyze(bytes, { path: message.name }) });
    return;
  }
  try {
    post({ type: 'rendered', id: message.id, text: render(message.format, message.files, message.skipped) });
  } catch (e) {
    post({ type: 'render-failed', id: message.id, error: e instanceof Error ? e.message : String(e) });
  }
};

/** A scan report of the files, as `hvci scan -f FORMAT` would write it. */
function render(format: ReportFormat, files: FileReport[], skipped: number): string {
  const counter = new SummaryCounter('error');
  for (const f of files) counter.add(f);
  const report: ScanReport = {
    tool: { name: TOOL_NAME, version: TOOL_VERSION, informationUri: INFORMATION_URI },
    files,
    walkErrors: [],
    summary: counter.summary({ skipped, targetOs: DEFAULT_TARGET_OS.name, walkErrors: 0 }),
  };
  const writer = format === 'json' ? jsonWriter() : format === 'sarif' ? sarifWriter({ rules }) : htmlWriter({ title: 'hvci report' });
  return renderWith(writer, report);
}
