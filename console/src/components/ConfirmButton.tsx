import { ReactNode, useEffect, useId, useRef, useState } from 'react';

/**
 * A destructive action behind a confirmation dialog (a native <dialog>: it traps focus, Escape cancels, focus
 * returns to the button afterwards).
 */
export function ConfirmButton({
  label,
  title,
  children,
  confirmLabel,
  onConfirm,
  disabled,
  danger = true,
  className,
}: {
  label: ReactNode;
  title: string;
  children: ReactNode;
  confirmLabel: string;
  onConfirm: () => void;
  disabled?: boolean;
  danger?: boolean;
  className?: string;
}) {
  const [open, setOpen] = useState(false);
  const dialog = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const bodyId = useId();

  useEffect(() => {
    const element = dialog.current;
    if (!element) return;
    if (open && !element.open) element.showModal?.();
    if (!open && element.open) element.close?.();
  }, [open]);

  return (
    <>
      <button
        type="button"
        className={className ?? (danger ? 'danger' : '')}
        disabled={disabled}
        onClick={() => setOpen(true)}
      >
        {label}
      </button>
      <dialog
        ref={dialog}
        aria-labelledby={titleId}
        aria-describedby={bodyId}
        onClose={() => setOpen(false)}
        onCancel={() => setOpen(false)}
      >
        {open && (
          <form
            method="dialog"
            onSubmit={(event) => {
              event.preventDefault();
              setOpen(false);
              onConfirm();
            }}
          >
            <h2 id={titleId}>{title}</h2>
            <div id={bodyId}>{children}</div>
            <div className="actions">
              <button type="button" onClick={() => setOpen(false)} autoFocus>
                Cancel
              </button>
              <button type="submit" className={danger ? 'danger' : 'primary'}>
                {confirmLabel}
              </button>
            </div>
          </form>
        )}
      </dialog>
    </>
  );
}
