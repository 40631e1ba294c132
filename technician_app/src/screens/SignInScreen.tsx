// Sign in; after an expired session, the same technician types the password again and
// everything queued on the phone stays and is sent afterwards.
import { useState } from "preact/hooks";
import { db } from "../db/db";
import { useI18n } from "../components/i18n";
import { useLive } from "../components/live";
import { lookup } from "../i18n";
import { syncNow } from "../sync/engine";
import { unsentCount } from "../sync/rules";
import { SignInError, signIn, signOut, type Session } from "../sync/session";

export function SignInScreen({ session }: { session: Session | null }) {
  const { t, locale } = useI18n();
  const [username, setUsername] = useState(session?.username ?? "");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const unsent = useLive(async () => unsentCount(await db.outbox.toArray()), []) ?? 0;

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await signIn(username, password);
      setPassword("");
      void syncNow();
    } catch (caught) {
      if (caught instanceof SignInError) {
        const known = lookup(locale, `signin.error.${caught.code}`);
        setError(
          caught.code === "other_user_queue"
            ? t("signin.error.other_user_queue", { name: caught.message })
            : caught.code === "http_429"
              ? t("signin.error.too_many")
              : (known ?? t("signin.error.other", { code: caught.code })),
        );
      } else {
        setError(t("signin.error.other", { code: "?" }));
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="signin">
      <h1>{t("app.name")}</h1>
      <p class="muted">{t("signin.intro")}</p>
      {session?.expired && (
        <div class="notice" role="status" data-testid="session-expired">
          <p>{t("signin.expired")}</p>
          {unsent > 0 && <p>{t("signin.kept", { n: unsent })}</p>}
        </div>
      )}
      <form onSubmit={(event) => void submit(event)} class="stack">
        <label>
          {t("signin.username")}
          <input
            name="username"
            autocomplete="username"
            autocapitalize="none"
            required
            value={username}
            readOnly={Boolean(session?.expired)}
            onInput={(event) => {
              setUsername(event.currentTarget.value);
            }}
          />
        </label>
        <label>
          {t("signin.password")}
          <input
            name="password"
            type="password"
            autocomplete="current-password"
            required
            value={password}
            onInput={(event) => {
              setPassword(event.currentTarget.value);
            }}
          />
        </label>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="primary" disabled={busy}>
          {busy ? t("signin.busy") : t("signin.submit")}
        </button>
      </form>
      {session?.expired && (
        <button
          type="button"
          class="link-button"
          onClick={() => {
            if (unsent > 0 && !window.confirm(t("settings.signOutConfirm", { n: unsent }))) return;
            void signOut().then(() => {
              setUsername("");
            });
          }}
        >
          {t("signin.notYou", { name: session.username })}
        </button>
      )}
    </main>
  );
}
