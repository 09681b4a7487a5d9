import { act, cleanup, render, screen } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LivePreview } from './LivePreview';
import { diagnosticAt, MappingEditor } from './MappingEditor';
import { PREVIEW_DEBOUNCE_MS, PreviewInput, useDebouncedPreview } from './preview';

function Harness({ input }: { input: PreviewInput }) {
  return <LivePreview preview={useDebouncedPreview(input)} />;
}

const input = (expression: string): PreviewInput => ({
  connector: 'salesask',
  eventType: 'recording.processed',
  expression,
  payload: { event: 'recording.processed', data: { id: 'abc' } },
});

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

const validResult = (title: string) => ({
  mappingVersion: 'candidate',
  events: [{ id: 'evt_1', type: 'activity.analyzed', subject: 'activity:salesask:abc', data: { title } }],
  errors: [],
  durationMs: 4.2,
});

type Fetch = (url: string, init: RequestInit) => Promise<Response>;
let fetchMock: ReturnType<typeof vi.fn<Fetch>>;
const sentExpressions = () =>
  fetchMock.mock.calls.map(([, init]) => (JSON.parse(String(init.body)) as PreviewInput).expression);

beforeEach(() => {
  vi.useFakeTimers();
  fetchMock = vi.fn<Fetch>();
  vi.stubGlobal('fetch', fetchMock);
});

afterEach(() => {
  cleanup();
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe('playground live preview', () => {
  it('waits for typing to pause, then sends one preview with the latest expression', async () => {
    fetchMock.mockResolvedValue(json(200, validResult('abc')));
    const { rerender } = render(<Harness input={input('a')} />);
    for (const expression of ['ab', 'abc']) {
      await act(() => vi.advanceTimersByTimeAsync(PREVIEW_DEBOUNCE_MS - 100));
      rerender(<Harness input={input(expression)} />);
    }
    await act(() => vi.advanceTimersByTimeAsync(PREVIEW_DEBOUNCE_MS - 1));
    expect(fetchMock).not.toHaveBeenCalled();
    expect(screen.getByRole('status').textContent).toBe('Mapping…');

    await act(() => vi.advanceTimersByTimeAsync(1));
    expect(sentExpressions()).toEqual(['abc']);
    const [url, init] = fetchMock.mock.calls[0];
    expect(url).toBe('/api/mappings/preview');
    expect(init.method).toBe('POST');
    expect(screen.getByRole('status').textContent).toMatch(/^Valid: 1 canonical event/);
    expect(screen.getByLabelText('Canonical output').textContent).toContain('"title": "abc"');
  });

  it('ignores an answer that arrives after a newer request was sent', async () => {
    let answerFirst!: (response: Response) => void;
    fetchMock
      .mockImplementationOnce(() => new Promise((resolve) => (answerFirst = resolve)))
      .mockResolvedValueOnce(json(200, validResult('second')));
    const { rerender } = render(<Harness input={input('first')} />);
    await act(() => vi.advanceTimersByTimeAsync(PREVIEW_DEBOUNCE_MS));
    rerender(<Harness input={input('second')} />);
    await act(() => vi.advanceTimersByTimeAsync(PREVIEW_DEBOUNCE_MS));
    await act(async () => answerFirst(json(200, validResult('first'))));
    expect(sentExpressions()).toEqual(['first', 'second']);
    const output = screen.getByLabelText('Canonical output').textContent;
    expect(output).toContain('"title": "second"');
    expect(output).not.toContain('"title": "first"');
  });

  it('shows a compile error with the position the API reports, as an alert', async () => {
    fetchMock.mockResolvedValue(
      json(422, {
        statusCode: 422,
        error: 'Unprocessable Entity',
        message: 'Expression does not compile: Expected "}" before end of expression (at 10)',
        correlationId: 'c-1',
        details: { jsonataCode: 'S0203', position: 10, token: '(end)' },
      }),
    );
    render(<Harness input={input('{"type": 1')} />);
    await act(() => vi.advanceTimersByTimeAsync(PREVIEW_DEBOUNCE_MS));
    expect(screen.getByRole('status').textContent).toBe('The expression has an error');
    const alert = screen.getByRole('alert');
    expect(alert.textContent).toContain('Expected "}" before end of expression');
    expect(alert.textContent).toContain('(at character 10)');
    expect(screen.queryByLabelText('Canonical output')).toBeNull();
  });

  it('lists canonical validation errors by path', async () => {
    fetchMock.mockResolvedValue(
      json(200, {
        mappingVersion: 'candidate',
        events: [],
        errors: [
          {
            code: 'mapping_output_invalid',
            message: 'output #0 is not a valid canonical event',
            output: 0,
            problems: [
              { path: 'subject', message: 'subject must be <entity>:<connector>:<vendor id>' },
              { path: 'data.id', message: 'id is missing' },
            ],
          },
        ],
        durationMs: 3,
      }),
    );
    render(<Harness input={input('{"type": "activity.analyzed"}')} />);
    await act(() => vi.advanceTimersByTimeAsync(PREVIEW_DEBOUNCE_MS));
    expect(screen.getByRole('status').textContent).toBe('Invalid: 1 error(s)');
    const errors = screen.getByRole('alert', { name: 'Validation errors' });
    expect(errors.textContent).toContain('mapping_output_invalid');
    expect(errors.textContent).toContain('output #0 subject: subject must be <entity>:<connector>:<vendor id>');
    expect(errors.textContent).toContain('data.id: id is missing');
  });

  it('shows the network failure when the hub does not answer', async () => {
    fetchMock.mockRejectedValue(new TypeError('Failed to fetch'));
    render(<Harness input={input('$')} />);
    await act(() => vi.advanceTimersByTimeAsync(PREVIEW_DEBOUNCE_MS));
    expect(screen.getByRole('alert').textContent).toContain('The hub did not answer');
  });
});

describe('editor diagnostics', () => {
  it('marks the character before the reported position, clamped to the text', () => {
    expect(diagnosticAt({ position: 10, message: 'm' }, 10)).toMatchObject({ from: 9, to: 10, severity: 'error' });
    expect(diagnosticAt({ position: 50, message: 'm' }, 10)).toMatchObject({ from: 9, to: 10 });
    expect(diagnosticAt({ position: 0, message: 'm' }, 10)).toMatchObject({ from: 0, to: 1 });
    expect(diagnosticAt({ position: 0, message: 'm' }, 0)).toMatchObject({ from: 0, to: 0 });
  });

  it('underlines the error in the editor at the position', async () => {
    vi.useRealTimers();
    const { container, rerender } = render(
      <MappingEditor value={'{"type": 1'} onChange={() => undefined} labelledBy="x" />,
    );
    expect(container.querySelector('.cm-content')?.textContent).toBe('{"type": 1');
    expect(container.querySelector('.cm-lintRange-error')).toBeNull();
    rerender(
      <MappingEditor
        value={'{"type": 1'}
        onChange={() => undefined}
        labelledBy="x"
        problem={{ position: 10, message: 'Expected "}"' }}
      />,
    );
    const marked = container.querySelector('.cm-lintRange-error');
    expect(marked?.textContent).toBe('1');
  });
});
