// The pages a mailed link opens: confirm a sign-up, choose a new password, accept an
// invitation. The token rides in the address's fragment (#token=…), which the browser
// never sends to a server; the page posts it with what the person types.
import { useEffect, useMemo, useState, type FormEvent } from "react";
import { Api, describeError } from "../lib/api";
import type { Session } from "../lib/types";
import { ErrorNote, Field } from "../components/common";

function tokenOfPage(): string {
  return new URLSearchParams(window.location.hash.slice(1)).get("token") ?? "";
}

interface Preview {
  org: { id: string; slug: string; name: string };
  email: string;
  display_name: string;
  role: string;
  inviter: string | null;
  expires_at: string;
  has_account: boolean;
}

function Card({ title, children }: { title: string; children: React.ReactNode }) {
  return (
    <main className="auth" id="main">
      <div className="auth-card">
        <h1 className="brand">Raasel</h1>
        <h2>{title}</h2>
        {children}
      </div>
    </main>
  );
}

function linkError(err: unknown): string {
  const text = describeError(err);
  return text.includes("invalid, used") ? "This link is no longer valid: it was used, withdrawn or has expired." : text;
}

export function LinkApp({ page }: { page: string }) {
  const token = useMemo(tokenOfPage, []);
  // Confirming and resetting sign the person in to the app; an invitation to the console.
  const api = useMemo(() => new Api(page === "invitation" ? "raasel.console" : "raasel.user"), [page]);
  if (!token) {
    return (
      <Card title="This link is incomplete">
        <p>Open the link from the mail again, or copy all of it into the address bar.</p>
      </Card>
    );
  }
  if (page === "verify-email") return <VerifyEmail api={api} token={token} />;
  if (page === "reset-password") return <ResetPassword api={api} token={token} />;
  return <AcceptInvitation api={api} token={token} />;
}

function VerifyEmail({ api, token }: { api: Api; token: string }) {
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      api.setSession(await api.post<Session>("/auth/verify-email", { token, password }));
      window.location.assign("/");
    } catch (err) {
      setError(linkError(err));
      setBusy(false);
    }
  };
  return (
    <Card title="Confirm your account">
      <form onSubmit={submit} className="stack">
        <p>Enter the password you chose when you signed up.</p>
        <Field label="Password">
          <input type="password" value={password} onChange={(e) => setPassword(e.target.value)} required maxLength={128} autoComplete="current-password" />
        </Field>
        <ErrorNote error={error} />
        <button type="submit" className="primary" disabled={busy}>
          Confirm and log in
        </button>
      </form>
    </Card>
  );
}

function ResetPassword({ api, token }: { api: Api; token: string }) {
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      api.setSession(await api.post<Session>("/auth/password/reset", { token, password }));
      window.location.assign("/");
    } catch (err) {
      setError(linkError(err));
      setBusy(false);
    }
  };
  return (
    <Card title="Choose a new password">
      <form onSubmit={submit} className="stack">
        <p>Every device logged in to your account will be logged out.</p>
        <Field label="New password" hint="8 to 128 characters">
          <input type="password" value={password} onChange={(e) => setPassword(e.target.value)} required minLength={8} maxLength={128} autoComplete="new-password" />
        </Field>
        <ErrorNote error={error} />
        <button type="submit" className="primary" disabled={busy}>
          Set password and log in
        </button>
      </form>
    </Card>
  );
}

function AcceptInvitation({ api, token }: { api: Api; token: string }) {
  const [preview, setPreview] = useState<Preview | null>(null);
  const [name, setName] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    api
      .post<Preview>("/invitations/preview", { token })
      .then((p) => {
        setPreview(p);
        setName(p.display_name);
      })
      .catch((err) => setError(linkError(err)));
  }, [api, token]);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!preview) return;
    setBusy(true);
    setError(null);
    try {
      const body = preview.has_account ? { token, password } : { token, password, display_name: name };
      api.setSession(await api.post<Session>("/invitations/accept", body));
      window.location.assign("/agent");
    } catch (err) {
      setError(linkError(err));
      setBusy(false);
    }
  };
  if (!preview) {
    return (
      <Card title="Invitation">
        {error ? <ErrorNote error={error} /> : <p className="muted">Opening the invitation…</p>}
      </Card>
    );
  }
  return (
    <Card title={`Join ${preview.org.name}`}>
      <form onSubmit={submit} className="stack">
        <p>
          {preview.inviter ?? "An administrator"} invites <strong>{preview.email}</strong> to join {preview.org.name} as {preview.role}.
        </p>
        {preview.has_account ? (
          <Field label="Password" hint="The password of your Raasel account">
            <input type="password" value={password} onChange={(e) => setPassword(e.target.value)} required maxLength={128} autoComplete="current-password" />
          </Field>
        ) : (
          <>
            <Field label="Your name">
              <input value={name} onChange={(e) => setName(e.target.value)} required maxLength={120} autoComplete="name" />
            </Field>
            <Field label="Choose a password" hint="8 to 128 characters">
              <input type="password" value={password} onChange={(e) => setPassword(e.target.value)} required minLength={8} maxLength={128} autoComplete="new-password" />
            </Field>
          </>
        )}
        <ErrorNote error={error} />
        <button type="submit" className="primary" disabled={busy}>
          Accept the invitation
        </button>
      </form>
    </Card>
  );
}
