// A guest talks to each organization as that organization's visitor (a visitor belongs to
// one organization, docs/protocol.md "Visitors"). One of them is the app's session; the
// others wait here, parked, so a guest who writes to a second organization keeps the
// first conversation in the list (issue 12, item 5). Each parked session lives in one
// place only (parked or active, never both), so no two clients rotate one refresh token.
import { Api, type KeyValueStore } from "../lib/api";
import type { Conversation, Session } from "../lib/types";

const PARKED_KEY = "raasel.guestSessions";
/** The organization whose visitor the app's session is. */
export const GUEST_ORG_KEY = "raasel.guestOrg";

function readParked(): Record<string, Session> {
  try {
    return JSON.parse(localStorage.getItem(PARKED_KEY) ?? "{}") as Record<string, Session>;
  } catch {
    return {};
  }
}

function writeParked(parked: Record<string, Session>): void {
  try {
    if (Object.keys(parked).length) localStorage.setItem(PARKED_KEY, JSON.stringify(parked));
    else localStorage.removeItem(PARKED_KEY);
  } catch {
    // Storage denied: this page only.
  }
}

function activeOrg(): string | null {
  try {
    return localStorage.getItem(GUEST_ORG_KEY);
  } catch {
    return null;
  }
}

/** A REST client over a parked session, kept in memory (written back by the caller). */
function apiOver(session: Session): Api {
  const memory = new Map<string, string>([["s", JSON.stringify(session)]]);
  const store: KeyValueStore = { get: (k) => memory.get(k) ?? null, set: (k, v) => void memory.set(k, v), remove: (k) => void memory.delete(k) };
  return new Api("s", "", store);
}

/** Make `orgId`'s visitor the app's session: the current one is parked, a parked one for
 * `orgId` comes back, or (none yet) `start` makes a new visitor. */
export async function becomeGuestOf(api: Api, orgId: string, start: () => Promise<Session>): Promise<void> {
  const current = api.current;
  const from = activeOrg();
  if (current?.user.kind === "visitor" && from === orgId) return;
  const parked = readParked();
  const back = parked[orgId];
  const next = back ?? (await start());
  delete parked[orgId];
  if (current?.user.kind === "visitor" && from) parked[from] = current;
  writeParked(parked);
  localStorage.setItem(GUEST_ORG_KEY, orgId);
  api.setSession(next);
}

/** The conversations of every parked visitor session, each marked with its organization
 * (`guest_org_id`), read with that session's own tokens (refreshed and parked again). */
export async function parkedConversations(): Promise<(Conversation & { guest_org_id: string })[]> {
  const parked = readParked();
  const found = await Promise.all(
    Object.entries(parked).map(async ([orgId, session]) => {
      const api = apiOver(session);
      try {
        const items = await api.get<Conversation[]>("/conversations?scope=all&limit=100");
        return { orgId, session: api.current, items: items.map((c) => ({ ...c, guest_org_id: orgId })) };
      } catch {
        return { orgId, session: api.current, items: [] };
      }
    }),
  );
  const latest = readParked();
  for (const { orgId, session } of found) {
    if (!(orgId in latest)) continue; // taken back meanwhile: the app's session now
    if (session) latest[orgId] = session;
    else delete latest[orgId]; // ended (refresh refused): nothing left to show
  }
  writeParked(latest);
  return found.flatMap((f) => f.items);
}

/** Leaving guest mode ends every parked visitor session too. */
export async function forgetGuestSessions(): Promise<void> {
  const parked = readParked();
  writeParked({});
  localStorage.removeItem(GUEST_ORG_KEY);
  await Promise.all(
    Object.values(parked).map((session) => {
      return apiOver(session).logout();
    }),
  );
}
