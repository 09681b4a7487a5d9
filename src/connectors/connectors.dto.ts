import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { EffectiveVerification } from './connector.registry';
import type { VerificationScheme } from './verifiers/verifier';

const SCHEMES: VerificationScheme[] = ['standard-webhooks', 'hmac-sha256', 'header-token', 'url-token'];

/** How a delivery is verified: a connector's scheme, or a source's after its overrides. */
export class VerificationView implements EffectiveVerification {
  @ApiProperty({ enum: SCHEMES, example: 'standard-webhooks' })
  scheme!: VerificationScheme;

  @ApiProperty({
    type: [String],
    example: [
      'svix-id (or webhook-id)',
      'svix-timestamp (or webhook-timestamp)',
      'svix-signature (or webhook-signature)',
    ],
    description: 'Request headers the vendor must send (none for url-token)',
  })
  headers!: string[];

  @ApiPropertyOptional({ example: 300, description: 'How far a signed timestamp may be from now' })
  toleranceSeconds?: number;

  @ApiPropertyOptional({ type: [String], example: ['203.0.113.0/24'], description: 'Only these senders' })
  ipAllow?: string[];

  @ApiProperty({ example: true, description: 'Whether a source of this scheme needs secrets' })
  secretsRequired!: boolean;

  @ApiPropertyOptional({ example: 'whsec_<base64>', description: 'What a secret looks like' })
  secretFormat?: string;
}

export class ConnectorEventView {
  @ApiProperty({ example: 'v1.engagement.updated', description: 'The vendor event type' })
  type!: string;

  @ApiPropertyOptional({ example: 'An engagement is updated' })
  description?: string;

  @ApiProperty({ type: [String], example: ['v1.engagement.updated.json'], description: 'Sample file names' })
  samples!: string[];
}

export class EnvelopeView {
  @ApiProperty({ example: 'type', description: 'Dot path of the vendor event type in the body' })
  eventType!: string;
  @ApiPropertyOptional({ example: 'id' }) eventId?: string;
  @ApiPropertyOptional({ example: 'created_at' }) occurredAt?: string;
  @ApiPropertyOptional({ enum: ['iso', 'unix'] }) occurredAtFormat?: 'iso' | 'unix';
  @ApiPropertyOptional({ description: 'Dot path of the vendor test flag' }) test?: string;
  @ApiPropertyOptional({ enum: ['eventId', 'body'], description: 'What duplicates are recognised by' })
  dedup?: 'eventId' | 'body';
}

/** A vendor API fetch the connector declares for one event type (issue 12): what a source with an API key gets. */
export class ConnectorEnrichmentAuthView {
  @ApiProperty({ example: 'x-api-key' }) header!: string;
  @ApiProperty({ example: '{apiKey}', description: '{apiKey} is replaced by the source key (never shown)' })
  value!: string;
}

export class ConnectorEnrichmentView {
  @ApiProperty({ example: 'recording.processed', description: 'The vendor event type it applies to' }) event!: string;
  @ApiProperty({ enum: ['GET', 'POST'], example: 'GET' }) method!: 'GET' | 'POST';
  @ApiProperty({
    example: '/v1/recordings/{data.id}',
    description: '{a.b}: the URL-encoded payload value at that path',
  })
  path!: string;
  @ApiProperty({ type: ConnectorEnrichmentAuthView }) auth!: ConnectorEnrichmentAuthView;
  @ApiPropertyOptional({
    example: 'https://integrations.salesask.com',
    description: 'The documented API base URL; absent when each source must give one',
  })
  baseUrl?: string;
  @ApiProperty({ example: 'recording', description: 'The mapping reads the document as $enrichment.<into>' })
  into!: string;
}

/** Vendor-specific setup text from connector.yaml (its `setup`), taken from the vendor's own document. */
export class ConnectorSetupView {
  @ApiProperty({ example: 'Asan CRM → Settings → Integrations → Webhooks tab' })
  where!: string;

  @ApiProperty({
    type: [String],
    example: ['Click Add Webhook.', 'Paste the source URL as the destination URL.'],
    description: 'The steps in order; "the source URL" is the source\'s url',
  })
  steps!: string[];

  @ApiPropertyOptional({
    example: 'The signing secret Asan CRM shows when you create the webhook (it signs the X-Asan-Signature header).',
    description: "What to paste as the source's secret; absent when none is needed",
  })
  secret?: string;
}

/** A connector and what a source of it needs. */
export class ConnectorView {
  @ApiProperty({ example: 'askelephant' })
  id!: string;

  @ApiProperty({ example: 'AskElephant' })
  name!: string;

  @ApiPropertyOptional({ example: 'askelephant.txt', description: 'The vendor document it follows' })
  vendorDoc?: string;

  @ApiProperty({ type: VerificationView, description: 'The default scheme' })
  verification!: VerificationView;

  @ApiProperty({ type: [VerificationView], description: 'Schemes a source may opt into with verification.scheme' })
  alternativeVerification!: VerificationView[];

  @ApiProperty({
    type: ConnectorSetupView,
    description: "How to point the vendor at a source, in the vendor's settings",
  })
  setup!: ConnectorSetupView;

  @ApiProperty({ type: EnvelopeView })
  envelope!: EnvelopeView;

  @ApiProperty({
    type: [ConnectorEnrichmentView],
    description: 'Vendor API fetches a source with an API key gets (enrichment); empty when none',
  })
  enrichment!: ConnectorEnrichmentView[];

  @ApiProperty({ type: [ConnectorEventView] })
  events!: ConnectorEventView[];
}

export class ConnectorSampleView {
  @ApiProperty({ example: 'v1.engagement.updated', description: 'The vendor event type' })
  event!: string;

  @ApiProperty({ example: 'v1.engagement.updated.json' })
  name!: string;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'The sample body, as the vendor sends it',
    example: { type: 'v1.engagement.updated', data: { id: 'eng_123' } },
  })
  payload!: unknown;
}
