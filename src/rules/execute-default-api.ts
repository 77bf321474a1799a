import { API_TABLE } from '../analysis/api-table.js';
import { findImportCallSites } from '../analysis/call-sites.js';
import { functionName } from '../analysis/functions.js';
import { defineInstructionRule } from './instruction-rule.js';
import { hex } from '../pe/index.js';

/** Class N of the rule book's §2 table: listed as handing out memory, with no argument that decides. */
const DEFAULT_APIS = new Map(API_TABLE.filter((s) => s.cls === 'N').map((s) => [s.name, s]));

export default defineInstructionRule({
  meta: {
    id: 'execute-default-api',
    defaultSeverity: 'note',
    docs: {
      title: 'Calls an API whose memory protection the caller cannot choose',
      description:
        'Microsoft lists these APIs among those that hand out memory, but the caller has no argument that makes the ' +
        'memory executable or not: the component decides (MmMapViewInSystemSpace, MmMapLockedPagesWithReservedMapping, ' +
        'MmCopyMemory; NdisAllocateMemory*; StorPortGetSystemAddress). hvci notes each call so a reviewer knows the ' +
        'driver depends on that component behaving under HVCI; there is nothing to change in the call. Not detected: ' +
        'StorPortGetDataInBufferSystemAddress (reached through StorPortExtendedFunction) and DxgkCbMapMemory (a ' +
        'DXGKRNL_INTERFACE callback, not an import).',
      resolution: 'Nothing to pass differently. Test the driver with Memory Integrity on; if the component hands out executable memory, report it to its owner.',
      ruleBook: '§2 class N, §9 execute-default-api',
      unconfirmed: 'Why MmCopyMemory is listed, and whether NDIS allocates NX memory, are not confirmed.',
    },
    messages: {
      call: '{api} at {callRva} in {function}: {decides}, not the caller; nothing to change here, but the driver relies on {module} under HVCI.',
    },
  },
  find: (model) =>
    findImportCallSites(model, { apis: new Set(DEFAULT_APIS.keys()) }).flatMap((site) => {
      const spec = DEFAULT_APIS.get(site.slot.name);
      if (!spec) return [];
      return [{ rva: site.callRva, function: functionName(site.fn), functionRva: site.fn.start, text: model.format(site.callRva), context: [], spec, dll: site.slot.dll, form: site.form }];
    }),
  describe: (call) => ({
    messageId: 'call',
    args: { api: call.spec.name, callRva: hex(call.rva), function: call.function, decides: call.spec.decides ?? 'the component decides', module: call.dll },
    evidence: { api: call.spec.name, dll: call.dll, form: call.form },
  }),
});
