import executeWriteSection from './execute-write-section.js';
import iatInExecutableSection from './iat-in-executable-section.js';
import initSectionRwx from './init-section-rwx.js';
import sectionAlignment from './section-alignment.js';
import straddlingRelocation from './straddling-relocation.js';
import type { Rule } from './types.js';

/** The registry: one line per rule, sorted by id. */
export const rules: readonly Rule[] = [
  executeWriteSection,
  iatInExecutableSection,
  initSectionRwx,
  sectionAlignment,
  straddlingRelocation,
] as Rule[];

export function findRule(id: string): Rule | undefined {
  return rules.find((r) => r.meta.id === id);
}

export * from './types.js';
export * from './target-os.js';
