// The shell: signed out → sign in; signed in → status bar, the screen of the route, tabs.
import { useEffect, useMemo } from "preact/hooks";
import type { Me } from "./api/types";
import { db, getMeta } from "./db/db";
import { LocaleContext, localeValue } from "./components/i18n";
import { useLive } from "./components/live";
import { linkTo, useRoute } from "./components/router";
import { StatusBar } from "./components/StatusBar";
import { pickLocale, type Locale } from "./i18n";
import { DayScreen } from "./screens/DayScreen";
import { JobScreen } from "./screens/JobScreen";
import { QueueScreen } from "./screens/QueueScreen";
import { SettingsScreen } from "./screens/SettingsScreen";
import { SignInScreen } from "./screens/SignInScreen";
import { requestPersistence, startSyncTriggers } from "./sync/engine";
import type { Session } from "./sync/session";
import { loadSession } from "./sync/session";

export function App() {
  const state = useLive(async () => {
    const [session, me, chosen] = await Promise.all([
      getMeta<Session>("session"),
      getMeta<Me>("me"),
      getMeta<Locale | null>("locale"),
    ]);
    return { session: session ?? null, me: me ?? null, chosen: chosen ?? null };
  }, []);
  const locale: Locale = state?.chosen ?? pickLocale(state?.me?.locale ?? navigator.language);
  const value = useMemo(() => localeValue(locale), [locale]);
  const signedIn = Boolean(state?.session && !state.session.expired);

  useEffect(() => {
    document.documentElement.lang = locale === "zh_CN" ? "zh-CN" : "en";
  }, [locale]);

  useEffect(() => {
    if (!signedIn) return;
    void loadSession().then(() => requestPersistence());
    return startSyncTriggers(db);
  }, [signedIn]);

  if (state === undefined) return <p class="loading">{value.t("app.loading")}</p>;
  return (
    <LocaleContext.Provider value={value}>
      {signedIn ? <SignedIn /> : <SignInScreen session={state.session} />}
    </LocaleContext.Provider>
  );
}

function SignedIn() {
  const route = useRoute();
  return (
    <div class="shell">
      <StatusBar />
      <main class="screen" id="main">
        {route.name === "job" ? (
          <JobScreen id={route.id} />
        ) : route.name === "queue" ? (
          <QueueScreen />
        ) : route.name === "settings" ? (
          <SettingsScreen />
        ) : (
          <DayScreen />
        )}
      </main>
      <Tabs current={route.name} />
    </div>
  );
}

function Tabs({ current }: { current: string }) {
  return (
    <LocaleContext.Consumer>
      {({ t }) => (
        <nav class="tabs" aria-label={t("app.name")}>
          <a {...linkTo({ name: "day" })} aria-current={current === "day" || current === "job" ? "page" : undefined}>
            {t("nav.day")}
          </a>
          <a {...linkTo({ name: "queue" })} aria-current={current === "queue" ? "page" : undefined}>
            {t("nav.queue")}
          </a>
          <a {...linkTo({ name: "settings" })} aria-current={current === "settings" ? "page" : undefined}>
            {t("nav.settings")}
          </a>
        </nav>
      )}
    </LocaleContext.Consumer>
  );
}
