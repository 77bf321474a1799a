import {
  hex,
  IMAGE_SCN_CNT_CODE,
  IMAGE_SCN_CNT_INITIALIZED_DATA,
  IMAGE_SCN_CNT_UNINITIALIZED_DATA,
  IMAGE_SCN_MEM_DISCARDABLE,
  IMAGE_SCN_MEM_EXECUTE,
  IMAGE_SCN_MEM_NOT_PAGED,
  IMAGE_SCN_MEM_READ,
  IMAGE_SCN_MEM_SHARED,
  IMAGE_SCN_MEM_WRITE,
  rights,
  type Section,
} from '../pe/index.js';

const FLAG_NAMES: ReadonlyArray<[number, string]> = [
  [IMAGE_SCN_CNT_CODE, 'CNT_CODE'],
  [IMAGE_SCN_CNT_INITIALIZED_DATA, 'CNT_INITIALIZED_DATA'],
  [IMAGE_SCN_CNT_UNINITIALIZED_DATA, 'CNT_UNINITIALIZED_DATA'],
  [IMAGE_SCN_MEM_DISCARDABLE, 'MEM_DISCARDABLE'],
  [IMAGE_SCN_MEM_NOT_PAGED, 'MEM_NOT_PAGED'],
  [IMAGE_SCN_MEM_SHARED, 'MEM_SHARED'],
  [IMAGE_SCN_MEM_EXECUTE, 'MEM_EXECUTE'],
  [IMAGE_SCN_MEM_READ, 'MEM_READ'],
  [IMAGE_SCN_MEM_WRITE, 'MEM_WRITE'],
];

export function characteristicNames(characteristics: number): string[] {
  return FLAG_NAMES.filter(([bit]) => (characteristics & bit) !== 0).map(([, name]) => name);
}

/** Everything a reader needs to find and judge a section header. */
export function sectionEvidence(s: Section): Record<string, unknown> {
  return {
    name: s.name,
    ...(s.longName !== undefined ? { longName: s.longName } : {}),
    index: s.index,
    characteristics: hex(s.characteristics, 8),
    rights: rights(s.characteristics),
    flags: characteristicNames(s.characteristics),
    virtualAddress: hex(s.virtualAddress),
    virtualSize: hex(s.virtualSize),
    sizeOfRawData: hex(s.sizeOfRawData),
    pointerToRawData: hex(s.pointerToRawData),
    headerFileOffset: hex(s.headerOffset),
  };
}
