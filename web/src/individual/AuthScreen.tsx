import { useState, type FormEvent } from "react";
import { describeError, type Api } from "../lib/api";
import type { Session } from "../lib/types";
import { ErrorNote, Field } from "../components/common";

type Mode = "login" | "register";

export function AuthScreen({ api, onGuest }: { api: Api; onGuest: () => void }) {
  const [mode, setMode] = useState<Mode>("login");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [name, setName] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const session =
        mode === "login"
          ? await api.post<Session>("/auth/login", { email, password })
          : await api.post<Session>("/auth/register", { email, password, display_name: name });
      api.setSession(session);
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="auth" id="main">
      <div className="auth-card">
        <h1 className="brand">Raasel</h1>
        <p className="lead">Find an organization and chat with it live.</p>
        <div className="tabs" role="tablist" aria-label="Account">
          {(["login", "register"] as const).map((m) => (
            <button key={m} type="button" role="tab" aria-selected={mode === m} className={mode === m ? "tab active" : "tab"} onClick={() => setMode(m)}>
              {m === "login" ? "Log in" : "Sign up"}
            </button>
          ))}
        </div>
        <form onSubmit={submit} className="stack">
          {mode === "register" && (
            <Field label="Your name">
              <input value={name} onChange={(e) => setName(e.target.value)} required maxLength={120} autoComplete="name" />
            </Field>
          )}
          <Field label="Email">
            <input type="email" value={email} onChange={(e) => setEmail(e.target.value)} required autoComplete="email" />
          </Field>
          <Field label="Password" hint={mode === "register" ? "8 to 128 characters" : undefined}>
            <input
              type="password"
              value={password}
              onChange={(e) => setPassword(e.target.value)}
              required
              minLength={mode === "register" ? 8 : 1}
              maxLength={128}
              autoComplete={mode === "login" ? "current-password" : "new-password"}
            />
          </Field>
          <ErrorNote error={error} />
          <button type="submit" className="primary" disabled={busy}>
            {mode === "login" ? "Log in" : "Create account"}
          </button>
        </form>
        <div className="or">or</div>
        <button type="button" className="secondary wide" onClick={onGuest}>
          Continue as a guest
        </button>
        <p className="small">
          Working for an organization? <a href="/agent">Open the agent console</a>.
        </p>
      </div>
    </main>
  );
}
