/*
 * The ceiling's mapping thread (CEILING_THREADS): parses the raw body and runs the shipped mapping, as ceiling.ts
 * does in-process otherwise. A piscina worker, like the hub's mapping threads, so that the cost of the thread hop
 * can be told from the rest of the hub's.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import jsonata from 'jsonata';

export interface CeilingMapTask {
  root: string;
  connector: string;
  type: string;
  text: string;
  bindings: Record<string, unknown>;
}

const compiled = new Map<string, ReturnType<typeof jsonata>>();

/** The shipped mapping for (connector, event type), compiled once per thread. */
export function mapping(root: string, connector: string, type: string): ReturnType<typeof jsonata> {
  const key = `${connector}/${type}`;
  let expression = compiled.get(key);
  if (!expression) {
    expression = jsonata(readFileSync(join(root, 'mappings', connector, `${type}.jsonata`), 'utf8'));
    compiled.set(key, expression);
  }
  return expression;
}

export default async function map({ root, connector, type, text, bindings }: CeilingMapTask): Promise<unknown> {
  // A structured clone drops what jsonata hangs on its sequences; plain JSON crosses back, as in the hub.
  return JSON.parse(JSON.stringify(await mapping(root, connector, type).evaluate(JSON.parse(text), bindings)));
}
