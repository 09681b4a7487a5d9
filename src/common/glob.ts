import { BoundedMemo } from './bounded-memo';

/** Event-type globs: `*` matches any run of characters (dots included), so `activity.*` and `*` work as DESIGN §7 says. */
export function globToRegExp(glob: string): RegExp {
  const escaped = glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`);
}

/** Compiled globs (issue 11: routing tests every event against each destination's: one RegExp per glob). */
const compiled = new BoundedMemo<string, RegExp>(1024);

export function matchesAnyGlob(value: string, globs: string[]): boolean {
  return globs.some((glob) => compiled.get(glob, globToRegExp).test(value));
}
