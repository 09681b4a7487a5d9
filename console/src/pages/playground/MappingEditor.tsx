import { defaultKeymap, history, historyKeymap, indentWithTab } from '@codemirror/commands';
import { bracketMatching, defaultHighlightStyle, syntaxHighlighting } from '@codemirror/language';
import { Diagnostic, lintGutter, setDiagnostics } from '@codemirror/lint';
import { EditorState } from '@codemirror/state';
import { EditorView, keymap, lineNumbers } from '@codemirror/view';
import { useEffect, useRef } from 'react';
import { jsonata } from './jsonata-language';

/** The per-response CSP nonce the hub put in index.html: CodeMirror's <style> elements must carry it. */
function cspNonce(): string {
  return document.querySelector<HTMLMetaElement>('meta[name="csp-nonce"]')?.content ?? '';
}

export interface EditorProblem {
  /** Character offset the API reported (JSONata's `position`: just after the offending token). */
  position: number;
  message: string;
}

/** Turns the API's position into a CodeMirror range, clamped to the text and at least one character wide. */
export function diagnosticAt(problem: EditorProblem, length: number): Diagnostic {
  const to = Math.max(0, Math.min(problem.position, length));
  const from = Math.max(0, Math.min(to - 1, length));
  return { from, to: Math.max(to, Math.min(from + 1, length)), severity: 'error', message: problem.message };
}

/**
 * The JSONata editor (CodeMirror 6): highlighting, line numbers, undo, bracket matching, and the compile error
 * the hub reports shown inline at its position.
 */
export function MappingEditor({
  value,
  onChange,
  problem,
  labelledBy,
}: {
  value: string;
  onChange: (value: string) => void;
  problem?: EditorProblem;
  labelledBy: string;
}) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView>(undefined);
  const change = useRef(onChange);
  change.current = onChange;

  useEffect(() => {
    const editor = new EditorView({
      parent: host.current!,
      state: EditorState.create({
        doc: value,
        extensions: [
          EditorView.cspNonce.of(cspNonce()),
          lineNumbers(),
          history(),
          bracketMatching(),
          jsonata,
          syntaxHighlighting(defaultHighlightStyle),
          lintGutter(),
          keymap.of([...defaultKeymap, ...historyKeymap, indentWithTab]),
          EditorView.lineWrapping,
          EditorView.contentAttributes.of({ 'aria-labelledby': labelledBy, 'aria-multiline': 'true' }),
          EditorView.updateListener.of((update) => {
            if (update.docChanged) change.current(update.state.doc.toString());
          }),
        ],
      }),
    });
    view.current = editor;
    return () => editor.destroy();
    // The editor is created once; `value` changes from outside are pushed in by the effect below.
  }, []);

  useEffect(() => {
    const editor = view.current;
    if (!editor) return;
    const current = editor.state.doc.toString();
    if (current !== value) editor.dispatch({ changes: { from: 0, to: current.length, insert: value } });
  }, [value]);

  useEffect(() => {
    const editor = view.current;
    if (!editor) return;
    const length = editor.state.doc.length;
    editor.dispatch(setDiagnostics(editor.state, problem ? [diagnosticAt(problem, length)] : []));
  }, [problem, value]);

  return <div className="editor" ref={host} />;
}
