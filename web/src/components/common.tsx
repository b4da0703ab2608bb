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

/** The composers' paper clip: picks one file of the kinds the server accepts. */
export function AttachButton({ onFile, disabled }: { onFile: (file: File) => void; disabled?: boolean }) {
  return (
    <label className="attach" title="Attach a file (image, PDF or text)">
      <span className="visually-hidden">Attach a file</span>
      <svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true">
        <path d="M16.5 6.5l-7.8 7.8a2 2 0 0 0 2.8 2.8l8-8a4 4 0 0 0-5.6-5.6l-8.2 8.2a6 6 0 0 0 8.5 8.5l6.3-6.3" fill="none" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" />
      </svg>
      <input
        type="file"
        className="visually-hidden"
        accept="image/png,image/jpeg,image/gif,image/webp,application/pdf,text/plain"
        disabled={disabled}
        onChange={(e) => {
          const file = e.target.files?.[0];
          e.target.value = "";
          if (file) onFile(file);
        }}
      />
    </label>
  );
}
