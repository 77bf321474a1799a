export type { Dbi, DbiModule, SectionContribution, SectionMapEntry } from './dbi.js';
export type { PdbInfo } from './info.js';
export type { PdbIssue, PdbIssueCode } from './issues.js';
export { isPdb } from './msf.js';
export { type InlinedCode, type ParsePdbResult, parsePdb, type Pdb, type PdbModule, type SourceLine } from './pdb.js';
export type { InlineRange, ProcedureSymbol, PublicSymbol } from './symbols.js';
export { type PdbSourceIndex, type SourceLocation, sourceIndexOf } from './locate.js';
