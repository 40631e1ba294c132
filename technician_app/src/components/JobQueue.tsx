// What of this job is still on the phone, item by item: waiting, refused (and why), held.
import type { OutboxItem } from "../db/db";
import { lookup } from "../i18n";
import { discardRefused, retryRefused } from "../sync/outbox";
import { syncNow } from "../sync/engine";
import { wellFormed, type Change } from "../sync/rules";
import { useI18n } from "./i18n";

export function itemLabel(item: OutboxItem, locale: ReturnType<typeof useI18n>["locale"]): string {
  if (!wellFormed(item)) return item.kind;
  if (item.kind === "transition") {
    return lookup(locale, `step.${item.payload.transition}`) ?? item.payload.label;
  }
  return lookup(locale, `queue.kind.${item.kind}`) ?? item.kind;
}

export function OutboxRow({ item }: { item: OutboxItem }) {
  const { t, locale, time } = useI18n();
  return (
    <li class={`queue-item queue-${item.status}`} data-testid="queue-item" data-status={item.status} data-kind={item.kind}>
      <div class="row spread">
        <span class="strong">{itemLabel(item, locale)}</span>
        <span class={`badge badge-${item.status}`}>{t(`queue.status.${item.status}`)}</span>
      </div>
      <p class="muted small">{t("queue.tapped", { time: time(item.createdAt) })}</p>
      {item.status === "refused" && item.outcome && (
        <div class="small" data-testid="refusal-reason">
          <p>{item.outcome.message}</p>
          {(item.outcome.reasons ?? []).map((reason) => (
            <p key={reason.code}>{reason.message}</p>
          ))}
        </div>
      )}
      {item.status === "held" && <p class="small">{t("queue.heldWhy")}</p>}
    </li>
  );
}

function describe(change: Change, side: "before" | "after", locale: ReturnType<typeof useI18n>["locale"], time: (iso: string) => string): string {
  const value = change[side];
  if (change.field === "state") return lookup(locale, `state.${value}`) ?? value;
  if (change.field === "priority") return lookup(locale, `priority.${value}`) ?? value;
  if (change.field === "window") {
    const [start, end] = value.split("/");
    return start ? `${time(start)}–${end ? time(end) : ""}` : "—";
  }
  return value || "—";
}

export function JobQueue({
  jobId,
  items,
  conflictState,
  changes = [],
}: {
  jobId: number;
  items: OutboxItem[];
  conflictState: string | null;
  changes?: Change[];
}) {
  const { t, locale, time } = useI18n();
  if (items.length === 0) return null;
  const refused = items.some((item) => item.status === "refused");
  return (
    <section class={refused ? "panel refusal-panel" : "panel"} data-testid="job-queue">
      {refused && <h2 role="alert">{t("conflict.title")}</h2>}
      {refused && conflictState && (
        <p data-testid="conflict-state">
          {t("conflict.changed", { state: lookup(locale, `state.${conflictState}`) ?? conflictState })}
        </p>
      )}
      {refused && changes.length > 0 && (
        <ul class="changes" data-testid="conflict-changes">
          {changes.map((change) => (
            <li key={change.field}>
              <strong>{t(`conflict.field.${change.field}`)}:</strong> {describe(change, "before", locale, time)} →{" "}
              {describe(change, "after", locale, time)}
            </li>
          ))}
        </ul>
      )}
      <details open={refused}>
        <summary data-testid="job-unsent">{t("status.unsent", { n: items.length })}</summary>
        <ul class="queue">
          {items.map((item) => (
            <OutboxRow key={item.seq} item={item} />
          ))}
        </ul>
      </details>
      {refused && (
        <div class="row">
          <button
            type="button"
            onClick={() => {
              void retryRefused(jobId).then(() => syncNow());
            }}
          >
            {t("conflict.retry")}
          </button>
          <button
            type="button"
            class="danger"
            onClick={() => {
              if (window.confirm(t("conflict.discardConfirm"))) void discardRefused(jobId);
            }}
          >
            {t("conflict.discard")}
          </button>
        </div>
      )}
    </section>
  );
}
