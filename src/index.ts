/** The library API. Pure: no node: imports, so the same core runs in a browser. */
export { analyze, type AnalyzeOptions } from './analyze.js';
/** In a browser bundle, await it once before analyze() (it loads the decoder's WebAssembly); in Node it is ready. */
export { decoderReady } from './analysis/iced.js';
export { classify, type ImageClassification, type ImageKind } from './analysis/image-kind.js';
export { parsePe, type ParseResult, PeImage, type VersionInfo } from './pe/index.js';
export { createDigest, type Digest, type DigestFactory, type DigestName, digestHex, pureDigests, useDigests } from './digest/index.js';
export { authenticodeHashes, readSignature, type SignatureReport } from './signature/index.js';
export type { FileReport, Finding, ImageFacts, ScanReport, ScanSummary, Verdict } from './report/model.js';
export { rules, findRule } from './rules/index.js';
export { DEFAULT_TARGET_OS, parseTargetOs, TARGET_OS_NAMES, type TargetOs } from './rules/target-os.js';
export type { Rule, RuleMeta, Severity } from './rules/types.js';
export { TOOL_NAME, TOOL_VERSION } from './version.js';
