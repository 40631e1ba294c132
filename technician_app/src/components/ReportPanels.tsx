// The field report on the phone: checklist answers, parts and labour, notes, resolution.
// Every change is saved to the draft and queued (src/sync/outbox.ts saveDraft).
import { useState } from "preact/hooks";
import type { ChecklistItem } from "../api/types";
import type { DraftRow } from "../db/db";
import { lookup } from "../i18n";
import { saveDraft } from "../sync/outbox";
import { checklistLeft } from "../sync/rules";
import { useI18n } from "./i18n";

/** Resolution codes offered (the API has no list yet; any code of ≤ 32 characters works). */
export const RESOLUTION_CODES = ["repaired", "replaced_part", "adjusted", "no_fault_found", "temporary_fix"];

export function ChecklistPanel({ jobId, items, draft }: { jobId: number; items: ChecklistItem[]; draft: DraftRow | undefined }) {
  const { t } = useI18n();
  if (items.length === 0) return null;
  const left = checklistLeft(items, draft?.checklist).length;
  const answer = (item: ChecklistItem, ok: boolean) =>
    void saveDraft(jobId, (current) => ({
      ...current,
      // The server counts an item answered by its text: "OK" / "Not OK" in the technician's words.
      checklist: { ...current.checklist, [item.key]: { ok, answer: ok ? t("checklist.ok") : t("checklist.notOk") } },
    }));
  return (
    <section class="panel" data-testid="checklist-panel">
      <h2>
        {t("checklist.title")}{" "}
        <span class="muted small" data-testid="checklist-left">
          {left === 0 ? t("checklist.done") : t("checklist.left", { n: left, total: items.length })}
        </span>
      </h2>
      <ul class="checklist">
        {items.map((item) => {
          const current = draft?.checklist[item.key] ?? { ok: item.ok, answer: item.answer };
          return (
            <li key={item.key} data-testid="checklist-item" data-key={item.key}>
              <p class="label">{item.label}</p>
              <div class="row" role="group" aria-label={item.label}>
                <button
                  type="button"
                  class={current.ok === true ? "choice chosen-ok" : "choice"}
                  aria-pressed={current.ok === true}
                  onClick={() => {
                    answer(item, true);
                  }}
                >
                  {t("checklist.ok")}
                </button>
                <button
                  type="button"
                  class={current.ok === false ? "choice chosen-bad" : "choice"}
                  aria-pressed={current.ok === false}
                  onClick={() => {
                    answer(item, false);
                  }}
                >
                  {t("checklist.notOk")}
                </button>
              </div>
            </li>
          );
        })}
      </ul>
    </section>
  );
}

export function PartsPanel({ jobId, draft }: { jobId: number; draft: DraftRow | undefined }) {
  const { t } = useI18n();
  const [number, setNumber] = useState("");
  const [description, setDescription] = useState("");
  const [quantity, setQuantity] = useState("1");
  const [labour, setLabour] = useState<string | null>(null);
  const parts = draft?.parts ?? [];
  const add = (event: Event) => {
    event.preventDefault();
    const count = Number.parseInt(quantity, 10);
    if (number.trim() === "" || !Number.isFinite(count) || count < 1) return;
    void saveDraft(jobId, (current) => ({
      ...current,
      parts: [
        ...current.parts,
        { part_number: number.trim(), description: description.trim() || null, quantity: Math.min(count, 10000) },
      ],
    }));
    setNumber("");
    setDescription("");
    setQuantity("1");
  };
  return (
    <section class="panel" data-testid="parts-panel">
      <h2>{t("parts.title")}</h2>
      {parts.length === 0 ? (
        <p class="muted small">{t("parts.none")}</p>
      ) : (
        <ul class="parts">
          {parts.map((part, index) => (
            <li key={`${part.part_number}-${index}`} data-testid="part">
              <span>
                {part.quantity} × {part.part_number}
                {part.description ? ` — ${part.description}` : ""}
              </span>
              <button
                type="button"
                class="link"
                aria-label={t("parts.remove", { part: part.part_number })}
                onClick={() =>
                  void saveDraft(jobId, (current) => ({
                    ...current,
                    parts: current.parts.filter((_, i) => i !== index),
                  }))
                }
              >
                ✕
              </button>
            </li>
          ))}
        </ul>
      )}
      <form class="part-form" onSubmit={add}>
        <label>
          {t("parts.number")}
          <input name="part_number" maxLength={60} value={number} onInput={(e) => { setNumber(e.currentTarget.value); }} />
        </label>
        <label>
          {t("parts.description")}
          <input name="part_description" maxLength={300} value={description} onInput={(e) => { setDescription(e.currentTarget.value); }} />
        </label>
        <label class="narrow">
          {t("parts.quantity")}
          <input name="part_quantity" type="number" inputMode="numeric" min={1} max={10000} value={quantity} onInput={(e) => { setQuantity(e.currentTarget.value); }} />
        </label>
        <button type="submit">{t("parts.add")}</button>
      </form>
      <label>
        {t("parts.labour")}
        <input
          name="labour_minutes"
          type="number"
          inputMode="numeric"
          min={0}
          max={10080}
          value={labour ?? (draft?.labourMinutes ?? "").toString()}
          onInput={(e) => {
            setLabour(e.currentTarget.value);
          }}
          onChange={(e) => {
            const minutes = Number.parseInt(e.currentTarget.value, 10);
            void saveDraft(jobId, (current) => ({
              ...current,
              labourMinutes: Number.isFinite(minutes) && minutes >= 0 ? Math.min(minutes, 10080) : null,
            }));
            setLabour(null);
          }}
        />
      </label>
    </section>
  );
}

export function NotesPanel({ jobId, draft }: { jobId: number; draft: DraftRow | undefined }) {
  const { t, locale } = useI18n();
  const [notes, setNotes] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  return (
    <section class="panel" data-testid="notes-panel">
      <h2>{t("notes.title")}</h2>
      <label class="visually-hidden" for={`notes-${jobId}`}>
        {t("notes.title")}
      </label>
      <textarea
        id={`notes-${jobId}`}
        name="work_notes"
        rows={3}
        maxLength={20000}
        value={notes ?? draft?.workNotes ?? ""}
        onInput={(e) => {
          setNotes(e.currentTarget.value);
          setSaved(false);
        }}
      />
      <label>
        {t("input.resolution_code")}
        <select
          name="resolution_code"
          value={draft?.resolutionCode ?? ""}
          onChange={(e) => {
            const code = e.currentTarget.value;
            void saveDraft(jobId, (current) => ({ ...current, resolutionCode: code }));
          }}
        >
          <option value="">{t("resolution.choose")}</option>
          {RESOLUTION_CODES.map((code) => (
            <option key={code} value={code}>
              {lookup(locale, `resolution.${code}`) ?? code}
            </option>
          ))}
        </select>
      </label>
      <div class="row">
        <button
          type="button"
          disabled={notes === null}
          onClick={() => {
            const text = notes ?? "";
            void saveDraft(jobId, (current) => ({ ...current, workNotes: text })).then(() => {
              setNotes(null);
              setSaved(true);
            });
          }}
        >
          {t("notes.save")}
        </button>
        {saved && <span class="muted small">{t("notes.saved")}</span>}
      </div>
    </section>
  );
}
