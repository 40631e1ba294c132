// The steps the job allows now: the server's list (disabled ones say why), or, after
// steps queued on this phone, the field steps that follow. A tap queues the step.
import { useState } from "preact/hooks";
import type { InputField } from "../api/types";
import { lookup } from "../i18n";
import { addLocation, queueTransition } from "../sync/outbox";
import { currentPosition } from "../sync/position";
import type { Blocker, Step } from "../sync/rules";
import { useI18n } from "./i18n";
import { RESOLUTION_CODES } from "./ReportPanels";

/** Steps that step back from the work: below the main one, in the outline style. */
const SECONDARY = new Set(["decline", "put_on_hold"]);

export function blockerText(blocker: Blocker, t: ReturnType<typeof useI18n>["t"], locale: ReturnType<typeof useI18n>["locale"]): string {
  const field = blocker.params.field;
  const params =
    typeof field === "string" ? { ...blocker.params, field: lookup(locale, `input.${field}`) ?? field } : blocker.params;
  const known = lookup(locale, blocker.code);
  return known ? t(blocker.code as "guard.field_present", params) : blocker.code;
}

function stepLabel(step: Step, locale: ReturnType<typeof useI18n>["locale"]): string {
  return lookup(locale, `step.${step.name}`) ?? step.label ?? step.name;
}

function inputLabel(field: InputField, locale: ReturnType<typeof useI18n>["locale"]): string {
  return lookup(locale, `input.${field.name}`) ?? (field.label || field.name);
}

function valueLabel(field: InputField, value: string, locale: ReturnType<typeof useI18n>["locale"]): string {
  return (field.name === "reason" ? lookup(locale, `hold.${value}`) : null) ?? value;
}

export function StepsPanel({
  jobId,
  steps,
  predicted,
  checkCompletion,
  defaults,
}: {
  jobId: number;
  steps: Step[];
  predicted: boolean;
  /** Why completion must wait (checked on the phone with the server's rules). */
  checkCompletion: () => Blocker[];
  defaults: Record<string, string>;
}) {
  const { t, locale } = useI18n();
  const [open, setOpen] = useState<Step | null>(null);
  const [values, setValues] = useState<Record<string, string>>({});
  // Shown after a refused tap, and kept up to date while the technician fixes them.
  const [showBlockers, setShowBlockers] = useState(false);
  const blockers = showBlockers ? checkCompletion() : [];
  const [busy, setBusy] = useState(false);

  const begin = (step: Step) => {
    setShowBlockers(false);
    if (step.name === "complete" && checkCompletion().length > 0) {
      setShowBlockers(true);
      return;
    }
    if (step.input.length === 0) {
      void take(step, {});
      return;
    }
    const initial: Record<string, string> = {};
    for (const field of step.input) {
      initial[field.name] = defaults[field.name] ?? (field.type === "enum" ? (field.values[0] ?? "") : "");
    }
    setValues(initial);
    setOpen(step);
  };

  const take = async (step: Step, input: Record<string, string>) => {
    setBusy(true);
    const cleaned = Object.fromEntries(Object.entries(input).filter(([, value]) => value.trim() !== ""));
    // The tap is on the phone at once; the position (when allowed) joins it when it comes.
    const item = await queueTransition(jobId, {
      transition: step.name,
      label: step.label ?? step.name,
      target: step.target,
      input: cleaned,
      location: null,
    });
    setOpen(null);
    setBusy(false);
    const position = await currentPosition();
    if (position && item.seq !== undefined) await addLocation(item.seq, position);
  };

  const missing = open?.input.filter((field) => field.required && (values[field.name] ?? "").trim() === "") ?? [];

  return (
    <section class="panel steps" data-testid="steps-panel">
      <h2>{t("job.steps")}</h2>
      {predicted && <p class="muted small">{t("job.predicted")}</p>}
      {steps.length === 0 && <p class="muted">{t("job.noSteps")}</p>}
      {blockers.length > 0 && (
        <div class="refusal" role="alert" data-testid="completion-blockers">
          <p>{t("complete.blocked")}</p>
          <ul>
            {blockers.map((blocker) => (
              <li key={blocker.code}>{blockerText(blocker, t, locale)}</li>
            ))}
          </ul>
        </div>
      )}
      {open ? (
        <form
          class="stack step-form"
          onSubmit={(event) => {
            event.preventDefault();
            if (missing.length === 0) void take(open, values);
          }}
        >
          <h3>{stepLabel(open, locale)}</h3>
          {open.input.map((field) => (
            <label key={field.name}>
              {inputLabel(field, locale)}
              {field.required && <span class="muted small"> ({t("step.required")})</span>}
              {field.type === "enum" ? (
                <select
                  name={field.name}
                  value={values[field.name] ?? ""}
                  onChange={(e) => {
                    setValues({ ...values, [field.name]: e.currentTarget.value });
                  }}
                >
                  {field.values.map((value) => (
                    <option key={value} value={value}>
                      {valueLabel(field, value, locale)}
                    </option>
                  ))}
                </select>
              ) : field.name === "resolution_code" ? (
                <select
                  name={field.name}
                  value={values[field.name] ?? ""}
                  onChange={(e) => {
                    setValues({ ...values, [field.name]: e.currentTarget.value });
                  }}
                >
                  <option value="">{t("resolution.choose")}</option>
                  {RESOLUTION_CODES.map((code) => (
                    <option key={code} value={code}>
                      {lookup(locale, `resolution.${code}`) ?? code}
                    </option>
                  ))}
                </select>
              ) : (
                <textarea
                  name={field.name}
                  rows={field.type === "text" ? 3 : 1}
                  maxLength={field.max_length ?? undefined}
                  value={values[field.name] ?? ""}
                  onInput={(e) => {
                    setValues({ ...values, [field.name]: e.currentTarget.value });
                  }}
                />
              )}
            </label>
          ))}
          <div class="row">
            <button type="button" onClick={() => { setOpen(null); }}>
              {t("step.cancel")}
            </button>
            <button type="submit" class="primary" disabled={busy || missing.length > 0}>
              {t("step.confirm", { step: stepLabel(open, locale) })}
            </button>
          </div>
        </form>
      ) : (
        <div class="step-buttons">
          {[...steps].sort((a, b) => Number(SECONDARY.has(a.name)) - Number(SECONDARY.has(b.name))).map((step) => (
            <div key={step.name} class="step">
              <button
                type="button"
                class={SECONDARY.has(step.name) ? "secondary big" : "primary big"}
                data-step={step.name}
                disabled={!step.enabled || busy}
                onClick={() => {
                  begin(step);
                }}
              >
                {stepLabel(step, locale)}
              </button>
              {!step.enabled && step.reasons.length > 0 && (
                <ul class="reasons small">
                  {step.reasons.map((reason) => (
                    <li key={reason.code}>{reason.message ?? reason.code}</li>
                  ))}
                </ul>
              )}
            </div>
          ))}
        </div>
      )}
    </section>
  );
}
