// Language, position sharing, storage, and signing out (asks before discarding unsent work).
import { useEffect, useState } from "preact/hooks";
import type { Me } from "../api/types";
import { db, getMeta, setMeta } from "../db/db";
import { useI18n } from "../components/i18n";
import { useLive } from "../components/live";
import { navigate } from "../components/router";
import { LOCALES, type Locale } from "../i18n";
import { unsentCount } from "../sync/rules";
import { enablePush, pushEnabled } from "../sync/push";
import { signOut } from "../sync/session";

const NAMES: Record<Locale, string> = { en: "English", zh_CN: "简体中文" };

function PushSetting() {
  const { t, locale } = useI18n();
  const [on, setOn] = useState<boolean | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  useEffect(() => {
    void pushEnabled().then(setOn, () => {
      setOn(false);
    });
  }, []);
  return (
    <section class="panel" data-testid="push-setting">
      <h2>{t("settings.push")}</h2>
      {on ? (
        <p class="ok-text">{t("settings.pushOn")}</p>
      ) : (
        <button
          type="button"
          onClick={() => {
            setProblem(null);
            void enablePush(locale, __APP_VERSION__).then(({ result, code }) => {
              if (result === "on") setOn(true);
              else setProblem(t(`settings.push.${result}`, { code: code ?? "" }));
            });
          }}
        >
          {t("settings.pushEnable")}
        </button>
      )}
      {problem && (
        <p class="error" role="alert">
          {problem}
        </p>
      )}
    </section>
  );
}

export function SettingsScreen() {
  const { t } = useI18n();
  const data = useLive(async () => {
    const [me, chosen, share, items] = await Promise.all([
      getMeta<Me>("me"),
      getMeta<Locale | null>("locale"),
      getMeta<boolean>("sharePosition"),
      db.outbox.toArray(),
    ]);
    return { me: me ?? null, chosen: chosen ?? null, share: share === true, unsent: unsentCount(items) };
  }, []);
  const [persisted, setPersisted] = useState<boolean | null>(null);
  useEffect(() => {
    void navigator.storage.persisted().then(setPersisted, () => {
      setPersisted(false);
    });
  }, []);
  if (!data) return null;
  return (
    <div class="settings" data-testid="settings-screen">
      <h1>{t("settings.title")}</h1>
      {data.me && <p>{t("settings.signedInAs", { name: data.me.display_name || data.me.username })}</p>}
      <label>
        {t("settings.language")}
        <select
          name="locale"
          value={data.chosen ?? ""}
          onChange={(event) => {
            const value = event.currentTarget.value;
            void setMeta("locale", value === "" ? null : value);
          }}
        >
          <option value="">{t("settings.languageAuto")}</option>
          {LOCALES.map((locale) => (
            <option key={locale} value={locale}>
              {NAMES[locale]}
            </option>
          ))}
        </select>
      </label>
      <label class="check">
        <input
          type="checkbox"
          name="share_position"
          checked={data.share}
          onChange={(event) => {
            const on = event.currentTarget.checked;
            void setMeta("sharePosition", on);
            if (on) navigator.geolocation.getCurrentPosition(() => undefined, () => undefined);
          }}
        />
        {t("settings.position")}
      </label>
      <PushSetting />
      <p class="muted small">
        {t("settings.storage", { state: persisted ? t("settings.persisted") : t("settings.notPersisted") })}
      </p>
      <button
        type="button"
        class="danger"
        data-testid="sign-out"
        onClick={() => {
          if (data.unsent > 0 && !window.confirm(t("settings.signOutConfirm", { n: data.unsent }))) return;
          void signOut().then(() => {
            navigate({ name: "day" });
          });
        }}
      >
        {t("settings.signOut")}
      </button>
      <p class="muted small">{t("settings.version", { version: __APP_VERSION__ })}</p>
    </div>
  );
}
