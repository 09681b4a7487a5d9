import { Accounting } from './accounting';
import { ScenarioResult, recordScenario } from './results';
import { VerifyingSink } from './verifying-sink';

export type Check = ScenarioResult['checks'][number];

export function check(name: string, ok: boolean, detail?: unknown): Check {
  return {
    name,
    ok,
    ...(detail === undefined ? {} : { detail: typeof detail === 'string' ? detail : JSON.stringify(detail) }),
  };
}

/** What every scenario asserts: nothing acknowledged is lost, no 2xx without a row, duplicates keep their webhook-id. */
export function deliveryChecks(accounting: Accounting, sink: VerifyingSink): Check[] {
  return [
    check(
      'lost == 0',
      accounting.lost === 0,
      accounting.lost ? { lostByStatus: accounting.lostByStatus, sample: accounting.lostSample } : undefined,
    ),
    check('every 2xx has a committed row', accounting.uncommittedAcks === 0, accounting.uncommittedAcks || undefined),
    check('every duplicate carries the same webhook-id', accounting.duplicatesShareWebhookId),
    check(
      'every arrival verifies (Standard Webhooks signature)',
      sink.rejected.length === 0,
      sink.rejected.length ? sink.rejected.slice(0, 3) : undefined,
    ),
  ];
}

/** Writes the scenario into the results file, prints its row, and returns the failed checks for one `expect`. */
export function finish(
  scenario: string,
  title: string,
  startedAt: number,
  accounting: Partial<Accounting> & Pick<Accounting, 'acknowledged' | 'delivered' | 'lost'>,
  checks: Check[],
  details: Record<string, unknown> = {},
): Check[] {
  recordScenario({
    scenario,
    title,
    acknowledged: accounting.acknowledged,
    delivered: accounting.delivered,
    lost: accounting.lost,
    duplicates: accounting.duplicates ?? 0,
    duplicatesShareWebhookId: accounting.duplicatesShareWebhookId ?? true,
    maxAckToDeliveryMs: accounting.maxAckToDeliveryMs ?? null,
    durationMs: Date.now() - startedAt,
    checks,
    details: { ...accounting, ...details },
  });
  return checks.filter((c) => !c.ok);
}
