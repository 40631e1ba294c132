// One job: who, where, what, and everything the technician does on it.
import type { JobDetail } from "../api/types";
import { db } from "../db/db";
import { useI18n } from "../components/i18n";
import { DeadlineClockView } from "../components/JobCard";
import { useLive } from "../components/live";
import { navigationUrl, platformOf } from "../components/maps";
import { PhotosPanel } from "../components/PhotosPanel";
import { ChecklistPanel, NotesPanel, PartsPanel } from "../components/ReportPanels";
import { SignaturePanel } from "../components/SignaturePanel";
import { StateLabel } from "../components/StateLabel";
import { StepsPanel } from "../components/StepsPanel";
import { JobQueue } from "../components/JobQueue";
import { changesBetween, completionBlockers, predictedState, stepsFor, unsent, wellFormed } from "../sync/rules";

const WORKING = new Set(["on_site", "in_progress", "on_hold"]);

export function JobScreen({ id }: { id: number }) {
  const { t, locale, date, dateTime } = useI18n();
  const data = useLive(async () => {
    const [job, items, photos, draft, serverPhotos] = await Promise.all([
      db.jobs.get(id),
      db.outbox.where("jobId").equals(id).toArray(),
      db.photos.where("jobId").equals(id).toArray(),
      db.drafts.get(id),
      db.serverPhotos.where("jobId").equals(id).toArray(),
    ]);
    return { job, items, photos, draft, serverPhotos };
  }, [id]);
  if (!data) return null;
  const { job, items, photos, draft, serverPhotos } = data;
  if (!job) return <p class="muted empty">{t("job.notFound")}</p>;
  const summary = job.summary;
  const detail: JobDetail | null = job.detail;
  const pending = unsent(items);
  const state = predictedState(summary.state, pending);
  const steps = stepsFor(summary.state, detail?.transitions ?? null, pending);
  const predicted = pending.some((item) => item.kind === "transition" && item.status === "waiting");
  const signers = [
    ...(detail?.signatures ?? []).filter((s) => s.signer_role === "customer").map((s) => s.signer_name),
    ...pending.flatMap((item) =>
      item.kind === "signature" && item.status !== "refused" && wellFormed(item) ? [item.payload.signer_name] : [],
    ),
  ];
  const completeStep = steps.find((step) => step.name === "complete");
  const checkCompletion = () =>
    completionBlockers({
      checklist: detail?.checklist ?? [],
      draft,
      photoCount:
        photos.filter(
          (photo) =>
            !pending.some((i) => i.kind === "photo" && wellFormed(i) && i.payload.clientId === photo.clientId && i.status === "refused"),
        ).length +
        Math.max(0, (detail?.photos.length ?? 0) - photos.filter((photo) => photo.serverId !== null).length),
      photosRequired: 1,
      customerSignatures: new Set(signers).size,
      resolutionRequired: completeStep?.input.some((field) => field.name === "resolution_code" && field.required) ?? false,
      resolutionCode: draft?.resolutionCode ?? "",
    });
  const site = summary.site;
  const primary = detail?.customer.contacts.find((c) => c.is_primary) ?? detail?.customer.contacts[0];
  const emergency = summary.priority === "emergency";
  return (
    <article class="job" data-testid="job-screen" data-job-id={id}>
      <header class={emergency ? "job-head emergency" : "job-head"}>
        {emergency && <p class="emergency-flag">⚠ {t("job.emergency")}</p>}
        <p class="muted small">{summary.number} · {summary.category.name}</p>
        <h1>{summary.title}</h1>
        <p>
          <StateLabel state={state} fallback={state === summary.state ? summary.state_label : null} />
        </p>
        <DeadlineClockView job={summary} state={state} now={new Date()} />
        <p class="muted small" data-testid="on-phone-since">
          {t("job.onPhoneSince", { time: dateTime(job.syncedAt) })}
        </p>
      </header>

      {job.removedOnServer && <p class="refusal" role="alert">{t("job.removed")}</p>}
      {state === "completed" && !predicted && <p class="notice" data-testid="sheet-notice">{t("complete.sheet")}</p>}
      {pending.some((item) => item.status === "refused") && (
        <JobQueue
          jobId={id}
          items={pending}
          conflictState={job.conflict?.state ?? null}
          changes={job.conflict?.before ? changesBetween(job.conflict.before, summary) : []}
        />
      )}

      <StepsPanel
        jobId={id}
        steps={steps}
        predicted={predicted}
        checkCompletion={checkCompletion}
        defaults={{ resolution_code: draft?.resolutionCode ?? "", resolution_note: draft?.workNotes ?? "" }}
      />
      {pending.length > 0 && !pending.some((item) => item.status === "refused") && (
        <JobQueue jobId={id} items={pending} conflictState={null} />
      )}

      {detail === null ? (
        <p class="muted">{t("job.loadingDetail")}</p>
      ) : (
        <>
          <section class="panel" data-testid="customer-panel">
            <h2>{t("job.customer")}</h2>
            <p class="strong">{detail.customer.name}</p>
            {detail.customer.contacts.map((contact) => (
              <p key={`${contact.name}-${contact.phone ?? ""}`}>
                {contact.phone ? (
                  <a class="button call" href={`tel:${contact.phone.replace(/[^+\d]/g, "")}`}>
                    {t("job.call", { name: contact.name })} <span class="small">{contact.phone}</span>
                  </a>
                ) : (
                  contact.name
                )}
              </p>
            ))}
          </section>
          {site && (
            <section class="panel" data-testid="site-panel">
              <h2>{t("job.site")}</h2>
              {site.address && <p>{site.address}</p>}
              <p class="muted small">{[site.district, site.city].filter(Boolean).join(" · ")}</p>
              {site.access_notes && (
                <p class="access">
                  <strong>{t("job.accessNotes")}:</strong> {site.access_notes}
                </p>
              )}
              {site.latitude !== null && site.longitude !== null && (
                <a
                  class="button primary"
                  data-testid="navigate"
                  href={navigationUrl(platformOf(navigator.userAgent), locale, site.latitude, site.longitude, site.address ?? primary?.name ?? summary.customer_name)}
                  rel="noopener"
                  target="_blank"
                >
                  {t("job.navigate")}
                </a>
              )}
            </section>
          )}
          {detail.description && (
            <section class="panel">
              <h2>{t("job.description")}</h2>
              <p class="pre">{detail.description}</p>
            </section>
          )}
          {detail.asset && (
            <section class="panel" data-testid="asset-panel">
              <h2>{t("job.asset")}</h2>
              <p class="strong">{[detail.asset.manufacturer, detail.asset.model].filter(Boolean).join(" ")}</p>
              {detail.asset.serial_number && <p class="muted small">{t("job.serial", { serial: detail.asset.serial_number })}</p>}
              <h3>{t("job.history")}</h3>
              {detail.asset.history.length === 0 ? (
                <p class="muted small">{t("job.noHistory")}</p>
              ) : (
                <ul class="history">
                  {detail.asset.history.map((visit) => (
                    <li key={visit.number}>
                      <span class="small">{visit.completed_at ? date(visit.completed_at) : ""}</span> {visit.title}
                      {visit.resolution_code && <span class="muted small"> · {visit.resolution_code}</span>}
                    </li>
                  ))}
                </ul>
              )}
            </section>
          )}
          {WORKING.has(state) && (
            <>
              <ChecklistPanel jobId={id} items={detail.checklist} draft={draft} />
              <PhotosPanel jobId={id} photos={photos} serverPhotos={serverPhotos} onServer={detail.photos.length} />
              <PartsPanel jobId={id} draft={draft} />
              <NotesPanel jobId={id} draft={draft} />
              <SignaturePanel jobId={id} signedBy={[...new Set(signers)]} />
            </>
          )}
        </>
      )}
    </article>
  );
}
