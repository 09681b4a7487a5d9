import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The folder holding package.json, connectors/ and mappings/, whether running from src/ or dist/src/. */
export function projectRoot(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the project root (package.json) above ' + __dirname);
    dir = parent;
  }
  return dir;
}
