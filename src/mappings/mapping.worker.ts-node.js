/*
 * Loads mapping.worker.ts in a piscina thread when the hub runs from TypeScript (Jest, ts-node). A worker thread
 * inherits none of the parent's require hooks, so ts-node is registered here, against the repo's tsconfig
 * (found by path: the thread's working directory says nothing). The build never needs this file: there,
 * MappingPool loads the compiled mapping.worker.js.
 */
const { join } = require('node:path');

require('ts-node').register({ transpileOnly: true, project: join(__dirname, '..', '..', 'tsconfig.json') });

module.exports = require('./mapping.worker.ts');
