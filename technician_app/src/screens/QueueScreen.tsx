// The outbox: every change made on this phone and what became of it.
import { db } from "../db/db";
import { useI18n } from "../components/i18n";
import { OutboxRow } from "../components/JobQueue";
import { useLive } from "../components/live";
import { linkTo } from "../components/router";

export function QueueScreen() {
  const { t } = useI18n();
  const data = useLive(async () => {
    const [items, jobs] = await Promise.all([db.outbox.orderBy("seq").toArray(), db.jobs.toArray()]);
    return { items, numbers: new Map(jobs.map((job) => [job.id, job.summary.number])) };
  }, []);
  if (!data) return null;
  const byJob = new Map<number, typeof data.items>();
  for (const item of data.items) byJob.set(item.jobId, [...(byJob.get(item.jobId) ?? []), item]);
  return (
    <div class="queue-screen" data-testid="queue-screen">
      <h1>{t("queue.title")}</h1>
      {data.items.length === 0 && <p class="muted">{t("queue.empty")}</p>}
      {[...byJob.entries()].map(([jobId, items]) => (
        <section key={jobId} class="panel">
          <h2>
            <a {...linkTo({ name: "job", id: jobId })}>{t("queue.job", { number: data.numbers.get(jobId) ?? `#${jobId}` })}</a>
          </h2>
          <ul class="queue">
            {items.map((item) => (
              <OutboxRow key={item.seq} item={item} />
            ))}
          </ul>
        </section>
      ))}
      {data.items.some((item) => item.status === "sent") && (
        <button
          type="button"
          onClick={() => {
            void db.outbox.where("status").equals("sent").delete();
          }}
        >
          {t("queue.clearSent")}
        </button>
      )}
    </div>
  );
}
