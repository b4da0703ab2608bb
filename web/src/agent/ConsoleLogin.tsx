import { useState, type FormEvent } from "react";
import { describeError, type Api } from "../lib/api";
import type { Session } from "../lib/types";
import { ErrorNote, Field } from "../components/common";

export function ConsoleLogin({ api }: { api: Api }) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [organization, setOrganization] = useState(() => localStorage.getItem("raasel.console.org") ?? "");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const session = await api.post<Session>("/auth/login", { email, password, organization: organization.trim().toLowerCase() });
      localStorage.setItem("raasel.console.org", organization.trim().toLowerCase());
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
        <h1 className="brand">Raasel console</h1>
        <p className="lead">For the agents and administrators of an organization.</p>
        <form onSubmit={submit} className="stack">
          <Field label="Organization" hint="Its short name, for example acme">
            <input value={organization} onChange={(e) => setOrganization(e.target.value)} required autoComplete="organization" />
          </Field>
          <Field label="Email">
            <input type="email" value={email} onChange={(e) => setEmail(e.target.value)} required autoComplete="email" />
          </Field>
          <Field label="Password">
            <input type="password" value={password} onChange={(e) => setPassword(e.target.value)} required autoComplete="current-password" />
          </Field>
          <ErrorNote error={error} />
          <button type="submit" className="primary" disabled={busy}>
            Log in
          </button>
        </form>
        <p className="small">
          Looking for help instead? <a href="/">Open the Raasel app</a>.
        </p>
      </div>
    </main>
  );
}
