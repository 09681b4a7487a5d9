/** Event-type globs: `*` matches any run of characters (dots included), so `activity.*` and `*` work as DESIGN §7 says. */
export function globToRegExp(glob: string): RegExp {
  const escaped = glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`);
}

export function matchesAnyGlob(value: string, globs: string[]): boolean {
  return globs.some((glob) => globToRegExp(glob).test(value));
}
