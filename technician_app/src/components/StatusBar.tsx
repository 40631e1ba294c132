// Always visible: when the phone last synced, how much is unsent, and "Sync now".
import { useEffect, useState } from "preact/hooks";
import { db, getMeta } from "../db/db";
import { syncNow, type SyncStatus } from "../sync/engine";
import { unsentCount } from "../sync/rules";
import { useI18n } from "./i18n";
import { useLive } from "./live";
import { linkTo } from "./router";

function useOnline(): boolean {
  const [online, setOnline] = useState(navigator.onLine);
  useEffect(() => {
    const on = () => {
      setOnline(true);
    };
    const off = () => {
      setOnline(false);
    };
    window.addEventListener("online", on);
    window.addEventListener("offline", off);
    return () => {
      window.removeEventListener("online", on);
      window.removeEventListener("offline", off);
    };
  }, []);
  return online;
}

export function StatusBar() {
  const { t, time, dateTime } = useI18n();
  const online = useOnline();
  const info = useLive(async () => {
    const [items, last, status] = await Promise.all([
      db.outbox.toArray(),
      getMeta<string>("lastSyncedAt"),
      getMeta<SyncStatus>("syncStatus"),
    ]);
    return { unsent: unsentCount(items), last: last ?? null, status: status ?? null };
  }, []);
  const running = info?.status?.running === true;
  const last = info?.last;
  const sameDay = last ? new Date(last).toDateString() === new Date().toDateString() : false;
  return (
    <header class="status" data-testid="status-bar">
      <div class="status-text">
        <span data-testid="last-synced">
          {last ? t("status.synced", { time: sameDay ? time(last) : dateTime(last) }) : t("status.never")}
        </span>
        {info && (
          <a {...linkTo({ name: "queue" })} class={info.unsent ? "unsent has-unsent" : "unsent"} data-testid="unsent-count">
            {info.unsent ? t("status.unsent", { n: info.unsent }) : t("status.allSent")}
          </a>
        )}
        {!online && <span class="offline-badge">{t("status.offline")}</span>}
        {info?.status?.result === "auth" && <span class="offline-badge">{t("status.needSignIn")}</span>}
      </div>
      <button
        type="button"
        class="sync-button"
        data-testid="sync-now"
        disabled={running}
        onClick={() => void syncNow()}
      >
        {running ? t("status.syncing") : t("status.syncNow")}
      </button>
    </header>
  );
}
