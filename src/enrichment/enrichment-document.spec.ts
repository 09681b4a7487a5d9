import { boundDocument } from './enrichment-document';

describe(boundDocument.name, () => {
  const size = (value: unknown) => Buffer.byteLength(JSON.stringify(value));
  const timeline = (segments: number) => ({
    engagement_id: 'ngmt_1',
    segments: Array.from({ length: segments }, (_, i) => ({
      speaker: 'Jane Doe',
      text: `line ${i} `.repeat(10),
      at: i,
    })),
  });

  it('keeps a document within the bound as it is', () => {
    const document = timeline(3);
    expect(boundDocument(document, 10_000)).toEqual({ document, truncated: false, bytes: size(document) });
  });

  it('cuts the largest array from the end, keeping its first elements and the shape', () => {
    const document = timeline(500);
    const bytes = size(document);
    const sut = boundDocument(structuredClone(document), 8_000);
    expect(sut.truncated).toBe(true);
    expect(sut.bytes).toBe(bytes);
    expect(size(sut.document)).toBeLessThanOrEqual(8_000);
    const kept = (sut.document as ReturnType<typeof timeline>).segments;
    expect(kept.length).toBeGreaterThan(10);
    expect(kept).toEqual(document.segments.slice(0, kept.length));
    expect((sut.document as { engagement_id: string }).engagement_id).toBe('ngmt_1');
  });

  it('cuts a long text at its end, marked with an ellipsis', () => {
    const document = { id: 'rec_1', transcript: 'word '.repeat(10_000) };
    const sut = boundDocument(document, 2_000);
    const cut = sut.document as typeof document;
    expect(size(cut)).toBeLessThanOrEqual(2_000);
    expect(cut.id).toBe('rec_1');
    expect(cut.transcript.endsWith('…')).toBe(true);
    expect(document.transcript.startsWith(cut.transcript.slice(0, -1))).toBe(true);
  });

  it('cuts inside a single huge element rather than dropping it', () => {
    const document = { segments: [{ text: 'x'.repeat(50_000) }] };
    const sut = boundDocument(document, 1_500);
    expect(size(sut.document)).toBeLessThanOrEqual(1_500);
    expect((sut.document as typeof document).segments).toHaveLength(1);
  });

  it('falls back to a marker when nothing can be cut (thousands of small keys)', () => {
    const document = Object.fromEntries(Array.from({ length: 2_000 }, (_, i) => [`k${i}`, i]));
    expect(boundDocument(document, 1_024)).toEqual({
      document: { truncated: true },
      truncated: true,
      bytes: size(document),
    });
  });
});
