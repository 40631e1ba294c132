// Signing in and staying signed in: the token pair lives in IndexedDB with the queue.
//
// An access token lasts minutes; the refresh token (single use, rotated) keeps the
// technician signed in. When the refresh token is refused the session is "expired": the
// technician types the password again and the queue, untouched, is sent after.
import { API_BASE } from "../api/client";
import type { Me, ProblemBody, TokenPair } from "../api/types";
import { db, getMeta, setMeta, type FieldworkDB } from "../db/db";

export interface Session {
  username: string;
  accessToken: string | null;
  refreshToken: string | null;
  /** Epoch ms after which the access token is no longer sent. */
  accessExpiresAt: number;
  /** True when the server refused our refresh token: ask for the password again. */
  expired: boolean;
}

const SESSION = "session";
let cached: Session | null | undefined;
let refreshing: Promise<boolean> | null = null;

export class SignInError extends Error {
  constructor(
    public readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Return the stored session (null: nobody signed in on this phone). */
export async function loadSession(database: FieldworkDB = db): Promise<Session | null> {
  cached = (await getMeta<Session>(SESSION, database)) ?? null;
  return cached;
}

/** Return the current access token, if any (synchronous, for request middleware). */
export function currentAccessToken(): string | null {
  return cached && !cached.expired ? cached.accessToken : null;
}

async function save(session: Session | null, database: FieldworkDB): Promise<void> {
  cached = session;
  if (session) await setMeta(SESSION, session, database);
  else await database.meta.delete(SESSION);
}

function fromPair(username: string, pair: TokenPair, now: number): Session {
  return {
    username,
    accessToken: pair.access_token,
    refreshToken: pair.refresh_token,
    // Refresh a little early so a request never leaves with a token about to die.
    accessExpiresAt: now + Math.max(0, pair.expires_in - 30) * 1000,
    expired: false,
  };
}

async function postJson(path: string, body: unknown, fetchImpl: typeof fetch): Promise<Response> {
  return fetchImpl(`${API_BASE}${path}`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
}

/**
 * Sign in with username and password. Refused when unsent work of another technician is
 * on the phone (it is theirs to send). Throws SignInError with the server's code.
 */
export async function signIn(
  username: string,
  password: string,
  database: FieldworkDB = db,
  fetchImpl: typeof fetch = (input, init) => fetch(input, init),
): Promise<Session> {
  const previous = await loadSession(database);
  const name = username.trim();
  if (previous && previous.username.toLowerCase() !== name.toLowerCase()) {
    const queued = await database.outbox.where("status").notEqual("sent").count();
    if (queued > 0) throw new SignInError("other_user_queue", previous.username);
  }
  let response: Response;
  try {
    response = await postJson("/auth/token", { username: name, password }, fetchImpl);
  } catch {
    throw new SignInError("offline", "");
  }
  if (!response.ok) {
    const problem = (await response.json().catch(() => ({}))) as Partial<ProblemBody>;
    throw new SignInError(problem.code ?? `http_${response.status}`, problem.detail ?? "");
  }
  const pair = (await response.json()) as TokenPair;
  if (previous && previous.username.toLowerCase() !== name.toLowerCase()) {
    await clearTechnicianData(database);
  }
  const session = fromPair(name, pair, Date.now());
  await save(session, database);
  return session;
}

/**
 * Exchange the refresh token for a new pair, once at a time (the refresh token works once:
 * two tabs refreshing together would revoke the sign-in). Returns false when the server
 * refused it (the session is then marked expired) or could not be reached.
 */
export function refresh(
  database: FieldworkDB = db,
  fetchImpl: typeof fetch = (input, init) => fetch(input, init),
): Promise<boolean> {
  const held = cached?.accessToken ?? null;
  refreshing ??= withLock("fieldwork-refresh", async () => {
    try {
      const session = await loadSession(database);
      if (!session?.refreshToken || session.expired) return false;
      // Another tab may have refreshed while we waited for the lock: its pair is stored.
      if (session.accessToken !== held && session.accessToken && Date.now() < session.accessExpiresAt) {
        return true;
      }
      let response: Response;
      try {
        response = await postJson("/auth/refresh", { refresh_token: session.refreshToken }, fetchImpl);
      } catch {
        return false; // offline: try again later, still signed in
      }
      if (response.status === 401) {
        await save({ ...session, accessToken: null, refreshToken: null, expired: true }, database);
        return false;
      }
      if (!response.ok) return false;
      const pair = (await response.json()) as TokenPair;
      await save(fromPair(session.username, pair, Date.now()), database);
      return true;
    } finally {
      refreshing = null;
    }
  });
  return refreshing;
}

/**
 * Run `work` holding a lock shared by every tab of the app (Web Locks), so two tabs never
 * spend the same single-use refresh token or send the same queue at once.
 */
export function withLock<T>(name: string, work: () => Promise<T>): Promise<T> {
  if (typeof navigator !== "undefined" && "locks" in navigator) {
    return navigator.locks.request(name, work) as Promise<T>;
  }
  return work();
}

/** Make sure the access token is fresh enough to send; refresh it when it is about to end. */
export async function ensureAccess(database: FieldworkDB = db): Promise<boolean> {
  const session = cached === undefined ? await loadSession(database) : cached;
  if (!session || session.expired) return false;
  if (session.accessToken && Date.now() < session.accessExpiresAt) return true;
  return refresh(database);
}

/** Mark the session expired (the server said 401 to a token it should know). */
export async function expireSession(database: FieldworkDB = db): Promise<void> {
  const session = await loadSession(database);
  if (session) await save({ ...session, accessToken: null, refreshToken: null, expired: true }, database);
}

/**
 * Sign out: tell the server (when reachable) and forget everything of the technician on
 * this phone, queue included. The screen asks first when the queue is not empty.
 */
export async function signOut(
  database: FieldworkDB = db,
  fetchImpl: typeof fetch = (input, init) => fetch(input, init),
): Promise<void> {
  const session = await loadSession(database);
  if (session?.accessToken) {
    try {
      await fetchImpl(`${API_BASE}/auth/logout`, {
        method: "POST",
        headers: { Authorization: `Bearer ${session.accessToken}` },
      });
    } catch {
      // Offline: the tokens die on their own; the phone forgets them now.
    }
  }
  await clearTechnicianData(database);
  await save(null, database);
}

async function clearTechnicianData(database: FieldworkDB): Promise<void> {
  await database.transaction(
    "rw",
    [database.jobs, database.outbox, database.photos, database.drafts, database.meta, database.serverPhotos],
    async () => {
      await Promise.all([
        database.serverPhotos.clear(),
        database.jobs.clear(),
        database.outbox.clear(),
        database.photos.clear(),
        database.drafts.clear(),
      ]);
      const keep = new Set([SESSION, "locale"]);
      const keys = (await database.meta.toArray()).map((row) => row.key).filter((k) => !keep.has(k));
      await database.meta.bulkDelete(keys);
    },
  );
}

/** Store who is signed in, as the server describes them. */
export async function storeMe(me: Me, database: FieldworkDB = db): Promise<void> {
  await setMeta("me", me, database);
}

/** Forget the in-memory copy (tests open fresh databases). */
export function resetSessionCache(): void {
  cached = undefined;
  refreshing = null;
}
