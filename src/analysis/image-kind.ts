import { IMAGE_DLLCHARACTERISTICS_WDM_DRIVER, IMAGE_FILE_DLL, IMAGE_SUBSYSTEM_NATIVE, type PeImage } from '../pe/index.js';

export type ImageKind = 'driver' | 'dll' | 'exe' | 'efi';

export interface ImageClassification {
  kind: ImageKind;
  /** Runs in the Windows kernel: HVCI applies to it. */
  kernelMode: boolean;
  /** Why we think so, in a few words ("native subsystem; imports ntoskrnl.exe"). */
  reason: string;
}

/** Modules only kernel-mode code imports. Any *.sys import also counts. */
const KERNEL_MODULES = new Set([
  'ntoskrnl.exe',
  'ntkrnlpa.exe',
  'ntkrnlmp.exe',
  'ntkrpamp.exe',
  'hal.dll',
  'halmacpi.dll',
  'halaacpi.dll',
  'bootvid.dll',
  'kdcom.dll',
  'ci.dll',
  'pshed.dll',
  'werkernel.sys',
]);

const EFI_SUBSYSTEMS = new Set([10, 11, 12, 13]);

export function classify(image: PeImage): ImageClassification {
  const subsystem = image.optionalHeader.subsystem;
  if (EFI_SUBSYSTEMS.has(subsystem)) {
    return { kind: 'efi', kernelMode: false, reason: `subsystem ${image.subsystemName}` };
  }
  const dlls = image.allImports.map((m) => m.dll.toLowerCase());
  const isDll = (image.fileHeader.characteristics & IMAGE_FILE_DLL) !== 0;
  // The kernel and the HAL import each other: an image that is itself one of the kernel
  // modules (by its export name) is not a driver the kernel loads, whatever it imports. This
  // keeps one module one kind on every machine: Wine's x86 ntoskrnl.exe imports hal.dll and
  // its x86 hal.dll imports ntoskrnl.exe, while their x64 builds import neither.
  const self = image.exports?.dllName?.toLowerCase();
  if (self !== undefined && KERNEL_MODULES.has(self)) {
    const others = [...new Set(dlls.filter((d) => KERNEL_MODULES.has(d)))];
    const imports = others.length > 0 ? `; its imports from ${others.join(', ')} do not make it a driver` : '';
    const base = `is the kernel module ${self} itself (export name)${imports}`;
    if (subsystem === IMAGE_SUBSYSTEM_NATIVE) return { kind: 'driver', kernelMode: true, reason: `${base}; native subsystem` };
    return { kind: isDll ? 'dll' : 'exe', kernelMode: false, reason: `${base}; subsystem ${image.subsystemName}: a user-mode stand-in (such as Wine's), not kernel code` };
  }
  const kernelImports = dlls.filter((d) => KERNEL_MODULES.has(d) || d.endsWith('.sys'));
  if (kernelImports.length > 0) {
    const names = [...new Set(kernelImports)].slice(0, 3).join(', ');
    const what = isDll ? 'kernel-mode DLL; ' : '';
    return { kind: 'driver', kernelMode: true, reason: `${what}imports kernel module${kernelImports.length > 1 ? 's' : ''} ${names}` };
  }
  if ((image.optionalHeader.dllCharacteristics & IMAGE_DLLCHARACTERISTICS_WDM_DRIVER) !== 0) {
    return { kind: 'driver', kernelMode: true, reason: 'WDM_DRIVER flag set in DllCharacteristics' };
  }
  if (subsystem === IMAGE_SUBSYSTEM_NATIVE) {
    // Native user-mode programs (smss.exe, autochk.exe) import ntdll.dll and nothing else.
    if (dlls.length > 0 && dlls.every((d) => d === 'ntdll.dll')) {
      return { kind: 'exe', kernelMode: false, reason: 'native subsystem, imports only ntdll.dll' };
    }
    return {
      kind: 'driver',
      kernelMode: true,
      reason: dlls.length === 0 ? 'native subsystem, no imports' : 'native subsystem',
    };
  }
  return isDll
    ? { kind: 'dll', kernelMode: false, reason: `subsystem ${image.subsystemName}` }
    : { kind: 'exe', kernelMode: false, reason: `subsystem ${image.subsystemName}` };
}
