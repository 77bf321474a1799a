/**
 * Every real sample in ../shared/data/windows-outputs (see its INDEX.md) gets a test: the
 * kind recognised, the rule ids, the decoded values and the fix. The first line of each
 * sample (`# source: …`) is provenance, not output, and is stripped.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { explain, type Explanation } from '../../src/explain/index.js';
import { repoRoot } from '../helpers/paths.js';

const samples = resolve(repoRoot, '..', 'shared', 'data', 'windows-outputs');
const read = (file: string) => readFileSync(join(samples, file), 'utf8').split('\n').slice(1).join('\n');
const value = (e: Explanation, name: string) => e.values.find((v) => v.name === name);

/** One entry per sample file: what a correct explanation says. */
const EXPECT: Record<string, (es: Explanation[]) => void> = {
  'bugcheck-c4/01-intel-haxm-116-c4-2000.txt': ([e]) => {
    assert.equal(e?.kind, 'bugcheck-c4');
    assert.deepEqual(e.ruleIds, ['execute-pool-type']);
    assert.equal(e.codeIntegrity, true);
    assert.match(value(e, 'Arg3')?.meaning ?? '', /NonPagedPool \(0x0\): executable non-paged pool/);
    assert.match(value(e, 'Arg4')?.meaning ?? '', /'MEMH'/);
    assert.equal(e.callerAddress, '0xFFFFF802DA2D33E8');
    assert.match(e.fix, /NonPagedPoolNx \(0x200\)/);
  },
  'bugcheck-c4/02-windows-driver-docs-1859-c4-2000.txt': ([e]) => {
    assert.equal(e?.kind, 'bugcheck-c4');
    assert.deepEqual(e.ruleIds, ['execute-pool-type']);
    // The first (complete) Arg2 wins over the truncated one later in the text.
    assert.equal(e.callerAddress, '0xFFFFF801E7121C5D');
    assert.match(value(e, 'Arg3')?.meaning ?? '', /NonPagedPool \(0x0\)/);
    assert.match(value(e, 'Arg4')?.meaning ?? '', /'CLMM'/);
    assert.match(e.fix, /NonPagedPoolNx/);
  },
  'bugcheck-c4/03-ebpf-1115-c4-0-noncodeintegrity.txt': ([e]) => {
    assert.equal(e?.kind, 'bugcheck-c4');
    assert.equal(e.codeIntegrity, false);
    assert.deepEqual(e.ruleIds, []);
    assert.match(e.title, /parameter 1 = 0x0: not a code-integrity/);
    assert.match(e.meaning, /caller is trying to allocate zero bytes/);
  },
  'bugcheck-c4/04-ebpf-2197-c4-62-noncodeintegrity.txt': ([e]) => {
    assert.equal(e?.kind, 'bugcheck-c4');
    assert.equal(e.codeIntegrity, false);
    assert.match(e.title, /0x62: not a code-integrity/);
    assert.match(e.meaning, /forgotten to free its pool allocations/);
  },
  'codeintegrity-events/01-windows-driver-docs-2811-3033.txt': ([e]) => {
    assert.equal(e?.kind, 'codeintegrity-event');
    assert.equal(e.codeIntegrity, false);
    assert.equal(value(e, 'event 3033')?.value, '3033');
    assert.match(e.title, /not a memory-integrity/);
    assert.deepEqual(e.drivers, ['\\Device\\HarddiskVolume1\\Program Files\\Norton Security\\Engine\\22.20.5.39\\symamsi.dll']);
    assert.match(e.fix, /signature or the policy/);
  },
  'codeintegrity-events/02-intunedocs-3145-3085-3084.txt': ([e]) => {
    assert.equal(e?.kind, 'codeintegrity-event');
    assert.deepEqual(e.values.filter((v) => v.name.startsWith('event')).map((v) => v.value), ['3084', '3085']);
    assert.match(value(e, 'event 3085')?.meaning ?? '', /WHQL driver signing enforcement is off/);
    assert.equal(value(e, 'Settings')?.value, '0x80000000');
  },
  'codeintegrity-events/03-itpro-9977-3091-raw.txt': ([e]) => {
    assert.equal(e?.kind, 'codeintegrity-event');
    assert.match(value(e, 'event 3091')?.meaning ?? '', /managed-installer/);
    assert.match(e.notes?.join(' ') ?? '', /could not find the message template/);
  },
  'codeintegrity-events/04-itpro-10498-3096.txt': ([e]) => {
    assert.equal(e?.kind, 'codeintegrity-event');
    assert.match(value(e, 'event 3096')?.meaning ?? '', /no change in the active Code Integrity policy/);
    assert.equal(e.codeIntegrity, false);
  },
  'deviceguard-wmi/01-osisoft-299-list.txt': ([e]) => {
    assert.equal(e?.kind, 'deviceguard-wmi');
    assert.match(e.title, /memory integrity \(HVCI\) is running/);
    assert.match(value(e, 'SecurityServicesRunning')?.meaning ?? '', /1 Credential Guard, 2 memory integrity/);
    assert.equal(value(e, 'VirtualizationBasedSecurityStatus')?.meaning, 'VBS enabled and running');
    assert.match(value(e, 'AvailableSecurityProperties')?.meaning ?? '', /5 NX protections/);
  },
  'deviceguard-wmi/02-itpro-pr-8077-list.txt': ([e]) => {
    assert.equal(e?.kind, 'deviceguard-wmi');
    assert.match(e.title, /is running/);
    assert.match(value(e, 'AvailableSecurityProperties')?.meaning ?? '', /PowerShell cut the list/);
    assert.match(value(e, 'SecurityServicesConfigured')?.meaning ?? '', /3 System Guard Secure Launch/);
    assert.match(value(e, 'UsermodeCodeIntegrityPolicyEnforcementStatus')?.meaning ?? '', /^off/);
  },
  'deviceguard-wmi/03-itpro-5312-retyped.txt': ([e]) => {
    assert.equal(e?.kind, 'deviceguard-wmi');
    assert.match(e.title, /configured but NOT running/);
    assert.match(e.meaning, /VBS enabled but not running/);
    assert.match(e.fix, /incompatible drivers/);
  },
  'deviceguard-wmi/04-d365fo-tools-427-get-computerinfo-deviceguard-empty.txt': ([e]) => {
    assert.equal(e?.kind, 'computerinfo');
    assert.match(e.title, /not running/);
    assert.equal(value(e, 'DeviceGuardSmartStatus')?.value, 'Off');
    assert.equal(value(e, 'DeviceGuardSecurityServicesRunning')?.value, '(empty)');
  },
  'dg-readiness/01-itpro-3997-capable.txt': ([e]) => {
    assert.equal(e?.kind, 'dg-readiness');
    assert.match(e.title, /no incompatible drivers found/);
    assert.match(e.meaning, /load-time checks/);
    assert.equal(value(e, 'Secure Boot')?.value, 'present');
  },
  'dg-readiness/02-itpro-5787-capable-log.txt': ([e]) => {
    assert.equal(e?.kind, 'dg-readiness');
    assert.match(e.title, /no incompatible drivers found/);
    assert.equal(value(e, 'HSTI')?.value, 'absent');
    assert.equal(value(e, 'architecture')?.value, '64-bit');
  },
  'incompatible-drivers/01-codens-2817-ko.txt': ([e]) => {
    assert.equal(e?.kind, 'incompatible-drivers');
    assert.deepEqual(e.drivers, ['I6Helix_AvsFilter.sys']);
    assert.deepEqual(e.packages, ['oem48.inf']);
    assert.match(e.fix, /pnputil \/delete-driver oem48\.inf \/uninstall/);
  },
  'incompatible-drivers/02-driverstoreexplorer-396-samsung.txt': ([e]) => {
    assert.equal(e?.kind, 'incompatible-drivers');
    assert.deepEqual(e.drivers, ['mbtusbser.sys']);
    assert.deepEqual(e.packages, ['oem105.inf']);
  },
  'incompatible-drivers/03-virtualbox-210-e1g6032e.txt': ([e]) => {
    assert.equal(e?.kind, 'incompatible-drivers');
    assert.deepEqual(e.drivers, ['E1G6032E.sys']);
    assert.match(value(e, 'driver')?.meaning ?? '', /version 8\.4\.13\.0/);
    assert.match(e.fix, /hvci scan/);
  },
  'pnputil/01-opentabletdriver-437-pnputil-e-en.txt': ([e]) => {
    assert.equal(e?.kind, 'pnputil');
    assert.deepEqual(e.packages, ['oem22.inf', 'oem16.inf', 'oem20.inf', 'oem4.inf', 'oem5.inf']);
    assert.equal(e.values[0]?.value, 'Advanced Micro Devices, Inc');
    assert.match(e.values[0]?.meaning ?? '', /09\/29\/2019 2\.2\.0\.121/);
  },
  'pnputil/02-npcap-219-pnputil-e-en.txt': ([e]) => {
    assert.equal(e?.kind, 'pnputil');
    assert.deepEqual(e.packages, ['oem6.inf', 'oem5.inf', 'oem10.inf', 'oem1.inf', 'oem0.inf', 'oem8.inf']);
    assert.equal(e.values.find((v) => v.name === 'oem10.inf')?.value, 'Nmap Project');
  },
  'pnputil/03-nmap-925-pnputil-e-zh.txt': ([e]) => {
    assert.equal(e?.kind, 'pnputil');
    assert.equal(e.packages?.length, 8);
    assert.equal(e.values.find((v) => v.name === 'oem22.inf')?.value, 'AMD');
  },
  'pnputil/04-driverstoreexplorer-1-pnputil-e-ru.txt': ([e]) => {
    assert.equal(e?.kind, 'pnputil');
    assert.deepEqual(e.packages, ['oem0.inf', 'oem1.inf', 'oem2.inf', 'oem3.inf', 'oem4.inf']);
    assert.equal(e.values[0]?.value, 'Cisco Systems');
    assert.match(e.values[0]?.meaning ?? '', /02\/26\/2014 3\.1\.6019\.0/);
  },
  'verifier/01-ebpf-1091-verifier3-flags.txt': ([e]) => {
    assert.equal(e?.kind, 'verifier-flags');
    assert.match(e.title, /code integrity checks are OFF/);
    assert.match(value(e, 'Verify Flags Level')?.meaning ?? '', /bit 25 .* is clear/);
    assert.match(e.fix, /verifier \/flags 0x02000000/);
  },
  'verifier/02-openzfs-124-verifier-flags.txt': ([e]) => {
    assert.equal(e?.kind, 'verifier-flags');
    assert.equal(value(e, '0x02000000 Code integrity checks')?.value, '[ ]');
    assert.match(e.meaning, /cannot catch HVCI problems/);
  },
  'verifier/03-microsoft-midi-366-verifier-flags.txt': ([e]) => {
    assert.equal(e?.kind, 'verifier-flags');
    assert.match(e.title, /OFF/);
  },
};

describe('hvci explain on the real samples', { skip: existsSync(samples) ? false : `no samples at ${samples}` }, () => {
  it('has an expectation for every sample file (and no stale one)', () => {
    const files = readdirSync(samples, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .flatMap((d) => readdirSync(join(samples, d.name)).map((f) => `${d.name}/${f}`))
      .sort();
    assert.deepEqual(Object.keys(EXPECT).sort(), files);
  });
  for (const [file, check] of Object.entries(EXPECT)) {
    it(file, () => {
      const es = explain(read(file));
      assert.equal(es.length, 1, `exactly one explanation: ${es.map((e) => e.kind).join(', ')}`);
      check(es);
      const e = es[0] as Explanation;
      assert.ok(e.title.length > 10 && e.meaning.length > 20 && e.fix.length > 10);
    });
  }
});
