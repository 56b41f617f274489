import { useRef, useState } from 'react';
import { Button, toast } from '../design';

/** Selects the secret's text, so Ctrl+C or ⌘C (or the context menu) copies it at once. */
function selectText(el: HTMLElement | null): void {
  const selection = window.getSelection();
  if (!el || !selection) return;
  const range = document.createRange();
  range.selectNodeContents(el);
  selection.removeAllRanges();
  selection.addRange(range);
}

/**
 * A secret shown once, with a copy button that never claims a copy it did not make: the
 * clipboard API is missing on a plain-HTTP origin and may be refused, and then the secret is
 * selected and the person is asked to copy it themselves.
 */
export function SecretOnce({ secret, testId }: { secret: string; testId?: string }) {
  const box = useRef<HTMLDivElement>(null);
  const [manual, setManual] = useState(false);

  async function copy() {
    const clipboard = globalThis.navigator?.clipboard;
    if (!clipboard) {
      selectText(box.current);
      setManual(true);
      return;
    }
    try {
      await clipboard.writeText(secret);
      setManual(false);
      toast('The token was copied.');
    } catch {
      selectText(box.current);
      setManual(true);
      toast('The browser did not allow copying: select and copy the token yourself.', 'error');
    }
  }

  return (
    <>
      <div ref={box} className="secret-once" data-testid={testId}>
        {secret}
      </div>
      <p>
        <Button onClick={copy}>Copy to clipboard</Button>
      </p>
      {manual ? (
        <p role="status">
          This browser cannot copy it for you here. The token is selected: select and copy it with Ctrl+C (⌘C
          on a Mac).
        </p>
      ) : null}
    </>
  );
}
