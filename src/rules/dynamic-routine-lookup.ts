import { withCodeModel } from '../analysis/code-model.js';
import { findRoutineLookups } from '../analysis/dynamic-lookup.js';
import { defineRule, type FindingDetails } from './types.js';
import { hex } from '../pe/index.js';


export default defineRule({
  meta: {
    id: 'dynamic-routine-lookup',
    requiresCode: true,
    defaultSeverity: 'note',
    docs: {
      title: 'An API that can return executable memory is resolved by name',
      description:
        'MmGetSystemRoutineAddress returns a kernel routine by name, so calls through the returned pointer never ' +
        'appear in the import table and import-based checks miss them. hvci recovers the UNICODE_STRING passed at ' +
        'each call (a constant string, one built with RtlInitUnicodeString just before, or a local whose fields the ' +
        'code fills in, as RTL_CONSTANT_STRING does) and notes lookups of an API from the rule book\'s call-site ' +
        'table, and lookups whose name it cannot recover (a name from a pointer or a parameter), since any routine may be behind ' +
        'those. Calls through the pointer are checked by the call-site rules when ' +
        'hvci can follow it (in the same function, or through a global another function stored it in); calls it ' +
        'cannot follow (pointers passed in structures or arguments) are not.',
      resolution:
        'Review the calls made through the looked-up pointer: they must pass NX pool types, non-executable protections and MdlMappingNoExecute like direct calls.',
      ruleBook: '§9 dynamic-routine-lookup',
    },
    messages: {
      lookup: 'MmGetSystemRoutineAddress at {callRva} in {function} looks up {name}, which can return executable memory; hvci checks the calls it can follow the pointer to (in this function, or through a global) and cannot see the others.',
      unknownName:
        'MmGetSystemRoutineAddress at {callRva} in {function} looks up a routine whose name hvci cannot recover ({reason}); calls through the pointer it returns are not checked.',
    },
  },
  check(image, ctx) {
    withCodeModel(image, (model) => {
      for (const l of findRoutineLookups(model)) {
        if (l.name === undefined ? l.unresolved === undefined : !l.affected) continue;
        const details: FindingDetails = {
          rva: l.callRva,
          evidence: {
            function: l.function,
            functionRva: hex(l.functionRva),
            call: model.format(l.callRva),
            routine: l.name ?? null,
            ...(l.unresolved !== undefined ? { unresolved: l.unresolved } : {}),
            ...(l.nameRva !== undefined ? { nameRva: hex(l.nameRva) } : {}),
          },
        };
        if (l.name === undefined) ctx.report('unknownName', { callRva: hex(l.callRva), function: l.function, reason: l.unresolved ?? 'unknown' }, details);
        else ctx.report('lookup', { callRva: hex(l.callRva), function: l.function, name: l.name }, details);
      }
    });
  },
});
