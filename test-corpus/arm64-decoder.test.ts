/**
 * The ARM64 decoder (src/analysis/arm64/decode.ts) against llvm-objdump over every instruction
 * of the executable sections of the corpus ARM64 images and the ARM64 fixtures: the same flow
 * kind and branch target, the same adrp/adr address, the same mnemonic, registers and offset
 * for loads and stores, the same constants for mov/movk/cmp/tst/add/sub, and every register
 * llvm-objdump says an instruction writes is written in the analysis form too (an instruction
 * the data flow does not model must not let a stale value through).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { decodeA64 } from '../src/analysis/arm64/decode.js';
import type { Insn } from '../src/analysis/decoder.js';
import { isExecutable, parsePe } from '../src/pe/index.js';
import { corpusRequired, corpusSkip } from '../test/helpers/corpus.js';
import { corpusDir, repoRoot } from '../test/helpers/paths.js';

const FILES = [
  ...['systeminformer/arm64/systeminformer.sys', 'systeminformer/arm64/ksi.dll', 'wine/aarch64-windows/winebus.sys', 'wine/aarch64-windows/http.sys', 'wine/aarch64-windows/ksecdd.sys',
    'binskim/Uwp_ARM64_VS2019_Cpp.dll', 'binskim/BA2025.EnableShadowStack/NotApplicable/ARM64_CETShadowStack_NotApplicable.exe'].map((p) => join(corpusDir, p)),
  ...['clean_driver.arm64.clang.sys', 'wx_section.arm64.clang.sys'].map((f) => join(repoRoot, 'test', 'fixtures', 'arm64', 'bin', f)),
];

const objdump = spawnSync('llvm-objdump', ['--version'], { encoding: 'utf8' });
// Under CI the oracle must run, never pass by skipping (.ci/run installs Debian's llvm).
if (objdump.status !== 0 && corpusRequired) throw new Error('llvm-objdump not found: apt-get install llvm (the .ci/run script installs it)');
const noObjdump = objdump.status === 0 ? false : 'llvm-objdump is not installed';

interface Line {
  va: bigint;
  mnemonic: string;
  operands: string;
}

function disassemble(file: string): Line[] {
  const r = spawnSync('llvm-objdump', ['-d', '--no-show-raw-insn', file], { encoding: 'utf8', maxBuffer: 1 << 28 });
  assert.equal(r.status, 0, r.stderr);
  const out: Line[] = [];
  for (const line of r.stdout.split('\n')) {
    const m = /^\s*([0-9a-f]+):\s+\t([^\t]+)(?:\t(.*))?$/.exec(line);
    if (!m || m[2] === '<unknown>') continue;
    out.push({ va: BigInt(`0x${m[1]}`), mnemonic: m[2] as string, operands: (m[3] ?? '').replace(/\s*<[^>]*>/g, '').replace(/\s*\/\/.*$/, '').trim() });
  }
  return out;
}

/** Operand tokens with every number as a decimal BigInt string. */
function tokens(operands: string): string[] {
  return operands
    .split(/[\s,[\]!#]+/)
    .filter((t) => t.length > 0)
    .map((t) => (/^-?(0x[0-9a-f]+|\d+)$/.test(t) ? (t.startsWith('-') ? (-BigInt(t.slice(1))).toString() : BigInt(t).toString()) : t));
}

const STORES_AND_CHECKS = /^(st|cmp|cmn|tst|ccmp|ccmn|fcmp|prfm|prfum|msr|b$|b\.|bl$|br|blr|cb|tb|ret|dc|ic|tlbi|hint|nop|yield|dmb|dsb|isb|csdb|brk|svc|hvc|smc|udf|ldadd|ldclr|ldset|swp|cas)/;
const LOADS_STORES = /^(ldr|ldur|str|stur|ldtr|sttr)(s?[bhw])?$|^(ldp|stp|ldnp|stnp|ldpsw)$/;
const BRANCH_FLOW: Record<string, Insn['flow']> = { b: 'jmp', bl: 'call', br: 'jmp-indirect', blr: 'call-indirect', ret: 'ret', cbz: 'jcc', cbnz: 'jcc', tbz: 'jcc', tbnz: 'jcc', udf: 'invalid', brk: 'interrupt' };

function expectedFlow(mnemonic: string): Insn['flow'] {
  if (mnemonic.startsWith('b.')) return mnemonic === 'b.al' || mnemonic === 'b.nv' ? 'jmp' : 'jcc';
  return BRANCH_FLOW[mnemonic] ?? 'next';
}

function registerNumber(name: string | undefined): number | undefined {
  const m = /^[xw](\d+)$/.exec(name ?? '');
  return m ? Number(m[1]) : undefined;
}

/** The disagreements between the decoder and llvm-objdump on one instruction (empty when none). */
function compare(line: Line, word: number, rva: number, imageBase: bigint): string[] {
  const { insn, text = '' } = decodeA64(word, rva, imageBase, true);
  const problems: string[] = [];
  const say = (what: string) => problems.push(`${what}: objdump "${line.mnemonic} ${line.operands}", hvci "${text}"`);
  const theirs = tokens(line.operands);
  const [mine0 = '', ...mineOps] = text.split(' ');
  const mine = tokens(mineOps.join(' '));
  const flow = expectedFlow(line.mnemonic);
  if (insn.flow !== flow) say(`flow ${insn.flow}, expected ${flow}`);
  if (flow !== 'next' && flow !== 'invalid' && flow !== 'ret' && flow !== 'interrupt') {
    const target = insn.operands.find((o) => o.kind === 'branch');
    const expected = theirs[theirs.length - 1];
    if (target?.kind === 'branch' && String(imageBase + BigInt(target.target)) !== expected) say('branch target');
  }
  if (line.mnemonic === 'adrp' || line.mnemonic === 'adr') {
    const mem = insn.operands[1];
    // llvm-objdump prints adr's operand as the offset from the instruction.
    const expected = line.mnemonic === 'adr' ? String(imageBase + BigInt(rva) + BigInt(theirs[1] as string)) : theirs[1];
    // The text always has the address; the operand only when it is inside the image's 4 GiB.
    const inImage = mem?.kind === 'mem' && (mem.target === undefined || String(imageBase + BigInt(mem.target)) === expected);
    if (mine0 !== line.mnemonic || !inImage || mine[1] !== expected || mine[0] !== theirs[0]) say('address');
  }
  if (LOADS_STORES.test(line.mnemonic)) {
    const indexed = theirs.some((t, i) => i > 0 && /^[xw]\d+$/.test(t) && i >= 2 && !/^(ldp|stp|ldnp|stnp|ldpsw)$/.test(line.mnemonic));
    const compared = indexed ? 3 : theirs.length;
    if (mine0 !== line.mnemonic || mine.slice(0, compared).join(' ') !== theirs.slice(0, compared).join(' ')) say('load/store');
  }
  if ((line.mnemonic === 'mov' || line.mnemonic === 'movk') && theirs.length >= 2 && /^-?\d+$/.test(theirs[1] as string)) {
    const reg = theirs[0] as string;
    const width = reg.startsWith('w') ? 32 : 64;
    const value = BigInt.asUintN(width, BigInt(theirs[1] as string)) << BigInt(line.mnemonic === 'movk' ? Number(theirs[3] ?? 0) : 0);
    const imm = insn.operands[1];
    const named = insn.operands[0];
    if (reg === 'xzr' || reg === 'wzr') {
      if (insn.mnemonic !== 'nop') say('mov to the zero register');
    } else if (insn.mnemonic !== line.mnemonic || imm?.kind !== 'imm' || imm.value !== value || named?.kind !== 'reg' || named.reg !== reg) say('constant');
  }
  if (/^(cmp|cmn|tst)$/.test(line.mnemonic) && theirs.length === 2 && /^\d+$/.test(theirs[1] as string)) {
    const imm = insn.operands[1];
    const lifted = line.mnemonic === 'tst' ? 'test' : line.mnemonic;
    if (insn.mnemonic !== lifted || imm?.kind !== 'imm' || imm.value !== BigInt.asUintN(theirs[0]?.startsWith('w') ? 32 : 64, BigInt(theirs[1] as string))) say('compare constant');
  }
  if ((line.mnemonic === 'add' || line.mnemonic === 'sub') && theirs.length === 3 && /^\d+$/.test(theirs[2] as string) && theirs[0]?.startsWith('x')) {
    const mem = insn.operands[1];
    const disp = (line.mnemonic === 'sub' ? -1 : 1) * Number(theirs[2]);
    if (insn.mnemonic !== 'lea' || mem?.kind !== 'mem' || mem.disp !== disp || mem.base !== theirs[1]) say('address arithmetic');
  }
  // Every general-purpose register write objdump shows is a write in the analysis form.
  const written = registerNumber(theirs[0]);
  if (written !== undefined && !STORES_AND_CHECKS.test(line.mnemonic)) {
    const dst = insn.operands[0];
    const mineWritten = dst?.kind === 'reg' ? registerNumber(dst.reg) : undefined;
    if (mineWritten !== written && insn.flow !== 'invalid') say(`writes x${written}`);
  }
  return problems;
}

describe('ARM64 decoder agrees with llvm-objdump on every instruction', { skip: corpusSkip() || noObjdump }, () => {
  for (const file of FILES) {
    it(file.replace(`${corpusDir}/`, '').replace(`${repoRoot}/`, ''), () => {
      const parsed = parsePe(new Uint8Array(readFileSync(file)));
      assert.ok(parsed.ok);
      const image = parsed.image;
      const base = image.optionalHeader.imageBase;
      const code = image.sections.filter(isExecutable);
      const lines = disassemble(file).filter((l) => code.some((s) => l.va - base >= BigInt(s.virtualAddress) && l.va - base < BigInt(s.virtualAddress + s.virtualSize)));
      const problems: string[] = [];
      for (const line of lines) {
        const rva = Number(line.va - base);
        const word = image.space.u32(rva);
        if (word === undefined) continue;
        problems.push(...compare(line, word, rva, base).map((p) => `0x${line.va.toString(16)} ${p}`));
      }
      assert.ok(lines.length > 0, 'llvm-objdump listed instructions');
      if (process.env.HVCI_ARM64_ORACLE_ALL) console.log(problems.join('\n'));
      assert.deepEqual(problems.slice(0, 20), [], `${problems.length} of ${lines.length} instructions disagree`);
    });
  }
});
