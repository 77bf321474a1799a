/* global require, process */
// Preloaded with --require: writes to stderr each package the process require()s by bare name
// ("required: iced-x86"), so a test can tell which libraries a command loaded.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a --require preload is CommonJS
const Module = require('node:module');
const load = Module._load;
Module._load = function (request, ...rest) {
  if (/^[a-z@][\w@/.-]*$/.test(request) && !request.startsWith('node:')) process.stderr.write(`required: ${request}\n`);
  return load.call(this, request, ...rest);
};
