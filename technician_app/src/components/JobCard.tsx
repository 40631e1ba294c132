// A job in the day list: time window, customer, district, priority, state, deadline clock.
import type { JobSummary } from "../api/types";
import { deadlineClock } from "../sync/rules";
import { useI18n, type LocaleContextValue } from "./i18n";
import { linkTo } from "./router";
import { StateLabel } from "./StateLabel";

/** Return "25 min left" / "1 h 5 min overdue" for a deadline. */
export function clockText(minutes: number, t: LocaleContextValue["t"]): string {
  const late = minutes < 0;
  const total = Math.abs(minutes);
  if (total < 60 || total % 60 === 0) {
    const hours = total >= 60;
    return t(late ? (hours ? "deadline.hoursOnlyOverdue" : "deadline.overdue") : hours ? "deadline.hoursOnlyLeft" : "deadline.left", {
      n: hours ? total / 60 : total,
    });
  }
  return t(late ? "deadline.hoursOverdue" : "deadline.hoursLeft", {
    h: Math.floor(total / 60),
    m: total % 60,
  });
}

export function DeadlineClockView({ job, state, now }: { job: JobSummary; state: string; now: Date }) {
  const { t, time } = useI18n();
  const clock = deadlineClock(job, state, now);
  if (!clock) return null;
  const urgency = clock.minutes < 0 ? "late" : clock.minutes < 60 ? "soon" : "ok";
  return (
    <p class={`clock clock-${urgency}`} data-testid="deadline">
      {t(`deadline.${clock.kind}`, { time: time(clock.at) })} · {clockText(clock.minutes, t)}
    </p>
  );
}

export function JobCard({
  job,
  state,
  now,
  unsent,
}: {
  job: JobSummary;
  state: string;
  now: Date;
  unsent: number;
}) {
  const { t, time } = useI18n();
  const emergency = job.priority === "emergency";
  const window =
    job.scheduled_start_at && job.scheduled_end_at
      ? t("job.window", { start: time(job.scheduled_start_at), end: time(job.scheduled_end_at) })
      : job.scheduled_start_at
        ? time(job.scheduled_start_at)
        : t("job.noWindow");
  return (
    <li class={emergency ? "card job-card emergency" : "card job-card"} data-testid="job-card" data-job-id={job.id}>
      <a {...linkTo({ name: "job", id: job.id })} class="card-link">
        {emergency && <span class="emergency-flag">⚠ {t("job.emergency")}</span>}
        <div class="card-top">
          <span class="window">{window}</span>
          <StateLabel state={state} fallback={job.state === state ? job.state_label : null} />
        </div>
        <p class="customer">{job.customer_name}</p>
        <p class="title">{job.title}</p>
        <p class="muted small">
          {[job.site?.district, job.site?.city].filter(Boolean).join(" · ") || job.number}
          {!emergency && job.priority !== "normal" && (
            <span class={`priority priority-${job.priority}`}> · {t(priorityKey(job.priority))}</span>
          )}
        </p>
        <DeadlineClockView job={job} state={state} now={now} />
        {unsent > 0 && <p class="pending small">{t("status.unsent", { n: unsent })}</p>}
      </a>
    </li>
  );
}

function priorityKey(priority: string): "priority.high" | "priority.low" | "priority.normal" | "priority.emergency" {
  switch (priority) {
    case "emergency":
      return "priority.emergency";
    case "high":
      return "priority.high";
    case "low":
      return "priority.low";
    default:
      return "priority.normal";
  }
}
