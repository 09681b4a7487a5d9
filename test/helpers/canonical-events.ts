import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CANONICAL_TYPES, CanonicalType, CloudEvent } from '../../src/canonical/cloud-event';
import { projectRoot } from '../../src/common/project-root';

/** Every canonical event the inbound mapping cases expect (mappings/<connector>/*.cases.json). */
export function expectedEvents(): { type: CanonicalType; data: Record<string, unknown> }[] {
  const root = join(projectRoot(), 'mappings');
  const found: { type: CanonicalType; data: Record<string, unknown> }[] = [];
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) return value.forEach(walk);
    if (!value || typeof value !== 'object') return;
    const record = value as Record<string, unknown>;
    if (CANONICAL_TYPES.includes(record.type as CanonicalType) && record.data && typeof record.data === 'object') {
      found.push({ type: record.type as CanonicalType, data: record.data as Record<string, unknown> });
    }
    Object.values(record).forEach(walk);
  };
  for (const connector of readdirSync(root, { withFileTypes: true })) {
    if (!connector.isDirectory() || connector.name === 'destinations') continue;
    for (const file of readdirSync(join(root, connector.name)).filter((f) => f.endsWith('.cases.json'))) {
      walk(JSON.parse(readFileSync(join(root, connector.name, file), 'utf8')));
    }
  }
  return found;
}

/** A CloudEvent envelope around `data`, with a subject whose entity fits the type. */
export function cloudEvent(type: CanonicalType, data: Record<string, unknown>): CloudEvent {
  return {
    specversion: '1.0',
    id: 'evt_1',
    type,
    source: '/sources/src_1',
    subject: `${type.split('.')[0] === 'signal' || type.startsWith('message') ? 'activity' : type.split('.')[0]}:x:1`,
    time: '2025-01-01T00:00:00Z',
    datacontenttype: 'application/json',
    connector: 'x',
    vendoreventtype: 'x',
    test: false,
    data,
  };
}
