import type { ReactNode } from "react";
import type { Typist } from "../hooks/useConversation";

export function ConnectionBanner({ connected }: { connected: boolean }) {
  if (connected) return null;
  return (
    <div className="banner banner-offline" role="status" data-testid="connection-lost">
      Connection lost. Reconnecting… Messages you send will go out when it returns.
    </div>
  );
}

export function ErrorNote({ error, onDismiss }: { error: string | null; onDismiss?: () => void }) {
  if (!error) return null;
  return (
    <div className="error" role="alert">
      <span>{error}</span>
      {onDismiss && (
        <button type="button" className="link" onClick={onDismiss} aria-label="Dismiss error">
          ×
        </button>
      )}
    </div>
  );
}

export function TypingLine({ typists, label }: { typists: Typist[]; label?: (t: Typist) => string }) {
  const t = typists[0];
  return (
    <div className="typing" aria-live="polite">
      {t ? `${label ? label(t) : (t.name ?? "Someone")} is typing…` : " "}
    </div>
  );
}

export function Badge({ count, label }: { count: number | undefined; label?: string }) {
  if (!count) return null;
  return (
    <span className="badge" aria-label={label ?? `${count} unread`}>
      {count}
    </span>
  );
}

export function Field({ label, children, hint }: { label: string; children: ReactNode; hint?: string }) {
  return (
    <label className="field">
      <span>{label}</span>
      {children}
      {hint && <small>{hint}</small>}
    </label>
  );
}
