import { displayName, hex, isExecutable, isWritable, rights } from '../pe/index.js';
import { sectionEvidence } from './evidence.js';
import { isInitSection } from './execute-write-section.js';
import { defineRule } from './types.js';

export default defineRule({
  meta: {
    id: 'init-section-rwx',
    defaultSeverity: 'warning',
    docs: {
      title: 'INIT section is writable and executable (old WDK default)',
      description:
        'Drivers linked with older WDK toolsets (VS2013 era) mark the discardable INIT section read-write-execute ' +
        '(typically 0xE2000020). Microsoft states that Windows 10 removes the write right from INIT when it loads the ' +
        'driver, and later Driver Verifier builds no longer flag it, so this alone does not stop the driver from ' +
        'loading under HVCI. It still marks an outdated toolset, and earlier Verifier builds reported it as 0x2003.',
      resolution: 'Rebuild with a current WDK so INIT is emitted as read-execute-discardable (0x62000020).',
      ruleBook: '§1 init-section-rwx',
      why:
        'Old WDK toolsets marked the discardable INIT section (DriverEntry and other start-up code) read-write-execute. Rather than break every such driver, Windows 10 drops the write permission from INIT when it loads the image, and later Verifier builds stopped flagging it. The driver loads, but the marking shows an old toolset whose other output deserves a look.',
      example: {
        fixture: 'init_rwx.x64.mingw.sys',
        text: 'warning  init-section-rwx  INIT section \'INIT\' is writable and executable (characteristics 0xE2000060: R W X); Windows 10 strips W from INIT at load, so this is tolerated, but it marks an old toolset.\n         at RVA 0x3000 · section INIT · file offset 0x1D8',
      },
      verifier: 'Early builds: bug check 0xC4 / 0x2003; later builds exempt INIT',
      unconfirmed:
        'The loader mechanism that strips W and the first Windows build that does so are unconfirmed; the typical characteristics values are unconfirmed.',
    },
    messages: {
      rwx: "INIT section '{section}' is writable and executable (characteristics {characteristics}: {rights}); Windows 10 strips W from INIT at load, so this is tolerated, but it marks an old toolset.",
    },
  },
  check(image, ctx) {
    for (const s of image.sections) {
      if (!isWritable(s) || !isExecutable(s) || !isInitSection(s.name)) continue;
      ctx.report(
        'rwx',
        { section: displayName(s), characteristics: hex(s.characteristics, 8), rights: rights(s.characteristics) },
        { rva: s.virtualAddress, fileOffset: s.headerOffset, section: s.name, evidence: { section: sectionEvidence(s) } },
      );
    }
  },
});
