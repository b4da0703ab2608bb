import { useState, type FormEvent } from "react";
import { describeError, type Api } from "../lib/api";
import type { Session } from "../lib/types";
import { ErrorNote, Field } from "../components/common";

type Mode = "login" | "register" | "forgot";

export function AuthScreen({ api, onGuest }: { api: Api; onGuest: () => void }) {
  const [mode, setMode] = useState<Mode>("login");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [name, setName] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [sentTo, setSentTo] = useState<string | null>(null); // a sign-up's link went here

  const resend = async () => {
    if (!sentTo) return;
    setError(null);
    try {
      await api.post("/auth/verify-email/resend", { email: sentTo });
      setNotice(`We sent the link to ${sentTo} again. It may take a minute to arrive.`);
    } catch (err) {
      setError(describeError(err));
    }
  };

  const switchTo = (m: Mode) => {
    setMode(m);
    setError(null);
    setNotice(null);
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setNotice(null);
    try {
      if (mode === "login") {
        api.setSession(await api.post<Session>("/auth/login", { email, password }));
      } else if (mode === "register") {
        // No session yet: the account exists once the mailed link is confirmed.
        await api.post("/auth/register", { email, password, display_name: name });
        setNotice(`Check your mail: we sent a link to ${email} to confirm your account.`);
        setSentTo(email);
      } else {
        await api.post("/auth/password/forgot", { email });
        setNotice(`If ${email} has an account, a link to choose a new password is on its way.`);
      }
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
            <button key={m} type="button" role="tab" aria-selected={mode === m} className={mode === m ? "tab active" : "tab"} onClick={() => switchTo(m)}>
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
          {mode !== "forgot" && (
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
          )}
          <ErrorNote error={error} />
          {notice && (
            <p className="notice" role="status">
              {notice}
            </p>
          )}
          <button type="submit" className="primary" disabled={busy}>
            {mode === "login" ? "Log in" : mode === "register" ? "Create account" : "Send me a link"}
          </button>
          {mode === "login" ? (
            <button type="button" className="link-button small" onClick={() => switchTo("forgot")}>
              Forgot your password?
            </button>
          ) : mode === "register" && sentTo ? (
            <button type="button" className="link-button small" onClick={() => void resend()}>
              No mail? Send the link again
            </button>
          ) : mode === "forgot" ? (
            <button type="button" className="link-button small" onClick={() => switchTo("login")}>
              Back to log in
            </button>
          ) : null}
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
