// Keyboard shortcuts of the console (listed by `?` and in docs/console.md). None fires while
// typing in a field, so text is never taken for a command.
import { useEffect } from "react";

export const SHORTCUTS: [string, string][] = [
  ["?", "Show or hide this list"],
  ["/", "Search conversations"],
  ["1 … 6", "Switch view: Queue, Mine, Unassigned, All open, Escalated, Resolved"],
  ["j / k", "Next / previous conversation in the list"],
  ["c", "Claim the open conversation"],
  ["r", "Reply (focus the message box)"],
  ["n", "Write an internal note"],
  ["e", "Resolve the open conversation"],
  ["Esc", "Close this list, or go back to the list"],
  ["/shortcut", "In the message box: insert a canned response"],
  ["@name", "In an internal note: mention a teammate (they are notified)"],
];

export type ShortcutHandlers = Partial<Record<string, () => void>>;

function isTyping(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  if (!el) return false;
  return el.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(el.tagName);
}

export function useShortcuts(handlers: ShortcutHandlers): void {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      if (e.key === "Escape") {
        handlers.Escape?.();
        return;
      }
      if (isTyping(e.target)) return;
      const handler = handlers[e.key];
      if (handler) {
        e.preventDefault();
        handler();
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [handlers]);
}

export function ShortcutHelp({ onClose }: { onClose: () => void }) {
  return (
    <div className="overlay" role="dialog" aria-modal="true" aria-labelledby="shortcuts-title" onClick={onClose}>
      <div className="card shortcuts" onClick={(e) => e.stopPropagation()}>
        <h2 id="shortcuts-title">Keyboard shortcuts</h2>
        <dl>
          {SHORTCUTS.map(([keys, what]) => (
            <div key={keys} className="shortcut">
              <dt>
                <kbd>{keys}</kbd>
              </dt>
              <dd>{what}</dd>
            </div>
          ))}
        </dl>
        <button type="button" className="secondary" onClick={onClose} autoFocus>
          Close
        </button>
      </div>
    </div>
  );
}
