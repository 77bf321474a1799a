import { AddressSpace } from './address-space.js';
import { type BaseRelocations, parseBaseRelocations } from './base-relocations.js';
import { ByteView, hex } from './bytes.js';
import { computeDataRanges, type DataRanges } from './data-ranges.js';
import { DirectoryIndex, MACHINE_NAMES, SUBSYSTEM_NAMES } from './constants.js';
import { type DebugInfo, parseDebugDirectory } from './debug-directory.js';
import { parseExceptionTable, type RuntimeFunction } from './exception-table.js';
import { type Exports, parseExports } from './exports.js';
import type { DataDirectory, FileHeader, Headers, OptionalHeader } from './headers.js';
import { type ImportedModule, parseDelayImports, parseImports } from './imports.js';
import type { IssueLog, PeIssue } from './issues.js';
import { type LoadConfig, parseLoadConfig } from './load-config.js';
import type { Section } from './sections.js';
import { parseVersionResource, type VersionInfo } from './version-resource.js';

export interface SecurityDirectory {
  /** A file offset, not an RVA: the certificate table is not mapped. */
  fileOffset: number;
  size: number;
  insideFile: boolean;
}

/**
 * A parsed PE image. Headers and sections are read up front; directories are parsed
 * on first use and memoised. Problems found along the way land in `issues`.
 */
export class PeImage {
  readonly space: AddressSpace;
  private cache = new Map<string, unknown>();

  constructor(
    readonly view: ByteView,
    readonly headers: Headers,
    readonly sections: readonly Section[],
    private readonly log: IssueLog,
  ) {
    const oh = headers.optionalHeader;
    this.space = new AddressSpace(view, sections, oh.sizeOfHeaders, oh.is64, oh.imageBase, log, headers.dataDirectories);
  }

  get fileHeader(): FileHeader {
    return this.headers.fileHeader;
  }
  get optionalHeader(): OptionalHeader {
    return this.headers.optionalHeader;
  }
  get dataDirectories(): readonly DataDirectory[] {
    return this.headers.dataDirectories;
  }
  get machine(): number {
    return this.headers.fileHeader.machine;
  }
  get machineName(): string {
    return MACHINE_NAMES[this.machine] ?? `unknown (${hex(this.machine, 4)})`;
  }
  get subsystemName(): string {
    return SUBSYSTEM_NAMES[this.optionalHeader.subsystem] ?? `unknown (${this.optionalHeader.subsystem})`;
  }
  get is64(): boolean {
    return this.optionalHeader.is64;
  }

  /** A directory entry, or undefined when absent or empty (RVA or size 0). */
  directory(index: number): DataDirectory | undefined {
    return this.space.directory(index);
  }

  get imports(): ImportedModule[] {
    return this.memo('imports', () => parseImports(this.space));
  }
  get delayImports(): ImportedModule[] {
    return this.memo('delayImports', () => parseDelayImports(this.space));
  }
  /** Normal and delay-loaded imports together. */
  get allImports(): ImportedModule[] {
    return [...this.imports, ...this.delayImports];
  }
  get exports(): Exports | undefined {
    return this.memo('exports', () => parseExports(this.space));
  }
  get baseRelocations(): BaseRelocations {
    return this.memo('relocs', () => parseBaseRelocations(this.space));
  }
  get exceptionTable(): RuntimeFunction[] {
    return this.memo('pdata', () => parseExceptionTable(this.space, this.machine));
  }
  get loadConfig(): LoadConfig | undefined {
    return this.memo('loadConfig', () => parseLoadConfig(this.space));
  }
  /** Bytes the data directories point at (see data-ranges.ts): never code, even inside an executable section. */
  get dataRanges(): DataRanges {
    return this.memo('dataRanges', () => computeDataRanges(this));
  }
  get debugInfo(): DebugInfo | undefined {
    return this.memo('debug', () => parseDebugDirectory(this.space));
  }
  /** The RT_VERSION resource's names and versions; undefined when there is none. */
  get versionInfo(): VersionInfo | undefined {
    return this.memo('version', () => parseVersionResource(this.space));
  }
  get security(): SecurityDirectory | undefined {
    return this.memo('security', () => {
      const d = this.dataDirectories[DirectoryIndex.security];
      if (!d || d.virtualAddress === 0 || d.size === 0) return undefined;
      const insideFile = this.view.has(d.virtualAddress, d.size);
      if (!insideFile) {
        this.log.add(
          'SECURITY_DIRECTORY_OUTSIDE_FILE',
          `certificate table ${hex(d.virtualAddress)}+${hex(d.size)} runs past the end of the file`,
          d.entryOffset,
        );
      }
      return { fileOffset: d.virtualAddress, size: d.size, insideFile };
    });
  }

  /** Every structural problem: parses all directories first so the list is complete. */
  get issues(): readonly PeIssue[] {
    this.parseAll();
    return this.log.items;
  }

  parseAll(): void {
    void this.imports;
    void this.delayImports;
    void this.exports;
    void this.baseRelocations;
    void this.exceptionTable;
    void this.loadConfig;
    void this.debugInfo;
    void this.security;
    void this.versionInfo;
    this.checkDirectoryBounds();
  }

  private checkDirectoryBounds(): void {
    this.memo('dirBounds', () => {
      for (const d of this.dataDirectories) {
        if (d.index === DirectoryIndex.security || d.virtualAddress === 0 || d.size === 0) continue;
        if (!this.space.isMapped(d.virtualAddress) || d.virtualAddress + d.size > this.optionalHeader.sizeOfImage + 0x1000) {
          this.log.add(
            'DIRECTORY_OUTSIDE_IMAGE',
            `${d.name} directory ${hex(d.virtualAddress)}+${hex(d.size)} is not inside the mapped image`,
            d.entryOffset,
          );
        }
      }
      return true;
    });
  }

  private memo<T>(key: string, compute: () => T): T {
    if (!this.cache.has(key)) this.cache.set(key, compute());
    return this.cache.get(key) as T;
  }
}
