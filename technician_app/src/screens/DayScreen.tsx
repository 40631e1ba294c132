// My day: today's jobs in planned order (emergencies first), then the rest.
import { useEffect, useState } from "preact/hooks";
import type { JobSummary } from "../api/types";
import { db } from "../db/db";
import { useI18n } from "../components/i18n";
import { JobCard } from "../components/JobCard";
import { useLive } from "../components/live";
import { syncNow } from "../sync/engine";
import { planDay, predictedState, unsent } from "../sync/rules";

function useMinuteClock(): Date {
  const [now, setNow] = useState(() => new Date());
  useEffect(() => {
    const timer = window.setInterval(() => {
      setNow(new Date());
    }, 30_000);
    return () => {
      window.clearInterval(timer);
    };
  }, []);
  return now;
}

/** Pull the list down from its top to sync (one-handed, as phones' lists do). */
function usePullToSync(): boolean {
  const [pulling, setPulling] = useState(false);
  useEffect(() => {
    let startY: number | null = null;
    let armed = false;
    const onStart = (event: TouchEvent) => {
      startY = window.scrollY === 0 ? (event.touches[0]?.clientY ?? null) : null;
    };
    const onMove = (event: TouchEvent) => {
      if (startY === null) return;
      armed = (event.touches[0]?.clientY ?? startY) - startY > 80;
      setPulling(armed);
    };
    const onEnd = () => {
      if (armed) void syncNow();
      startY = null;
      armed = false;
      setPulling(false);
    };
    window.addEventListener("touchstart", onStart, { passive: true });
    window.addEventListener("touchmove", onMove, { passive: true });
    window.addEventListener("touchend", onEnd);
    return () => {
      window.removeEventListener("touchstart", onStart);
      window.removeEventListener("touchmove", onMove);
      window.removeEventListener("touchend", onEnd);
    };
  }, []);
  return pulling;
}

export function DayScreen() {
  const { t } = useI18n();
  const now = useMinuteClock();
  const pulling = usePullToSync();
  const data = useLive(async () => {
    const [jobs, items] = await Promise.all([db.jobs.toArray(), db.outbox.toArray()]);
    return { jobs, pending: unsent(items) };
  }, []);
  if (!data) return null;
  const stateOf = (job: JobSummary) =>
    predictedState(job.state, data.pending.filter((item) => item.jobId === job.id));
  const visible = data.jobs.filter((row) => !row.removedOnServer).map((row) => row.summary);
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const plan = planDay(visible, now, zone, stateOf);
  const count = (id: number) => data.pending.filter((item) => item.jobId === id).length;
  const section = (title: string, jobs: JobSummary[], testId: string, empty?: string) =>
    jobs.length === 0 && !empty ? null : (
      <section data-testid={testId}>
        <h2>{title}</h2>
        {jobs.length === 0 ? (
          <p class="muted">{empty}</p>
        ) : (
          <ul class="cards">
            {jobs.map((job) => (
              <JobCard key={job.id} job={job} state={stateOf(job)} now={now} unsent={count(job.id)} />
            ))}
          </ul>
        )}
      </section>
    );
  return (
    <div class="day">
      <h1 class="visually-hidden">{t("day.title")}</h1>
      {pulling && (
        <p class="pull-hint" role="status">
          {t("day.pullToSync")}
        </p>
      )}
      {data.jobs.length === 0 ? (
        <p class="muted empty">{t("day.empty")}</p>
      ) : (
        <>
          {section(t("day.today"), plan.today, "day-today", t("day.noneToday"))}
          {section(t("day.unscheduled"), plan.unscheduled, "day-unscheduled")}
          {section(t("day.upcoming"), plan.upcoming, "day-upcoming")}
          {section(t("day.recent"), plan.recent, "day-recent")}
        </>
      )}
    </div>
  );
}
