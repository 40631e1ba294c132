// Builders of API objects and outbox items for the unit tests.
import type { JobDetail, JobSummary } from "../src/api/types";
import type { OutboxItem } from "../src/db/db";

export function summary(overrides: Partial<JobSummary> = {}): JobSummary {
  return {
    id: 1,
    number: "WO-2026-000001",
    state: "assigned",
    state_label: "Assigned",
    priority: "normal",
    title: "Cold room too warm",
    category: { code: "HVAC", name: "AC repair" },
    customer_name: "Lianhua",
    site: null,
    scheduled_start_at: null,
    scheduled_end_at: null,
    deadlines: { respond_by: null, arrive_by: null, resolve_by: null },
    version: 3,
    updated_at: "2026-03-02T01:00:00+00:00",
    ...overrides,
  };
}

export function detail(overrides: Partial<JobDetail> = {}): JobDetail {
  return {
    ...summary(),
    description: null,
    customer: { id: 1, name: "Lianhua", preferred_locale: "zh_CN", contacts: [] },
    asset: null,
    checklist: [],
    transitions: [],
    report: null,
    photos: [],
    signatures: [],
    ...overrides,
  };
}

let seq = 0;

export function transition(jobId: number, name: string, target: string, extra: Partial<OutboxItem> = {}): OutboxItem {
  seq += 1;
  return {
    seq,
    kind: "transition",
    key: `key-${seq}`,
    jobId,
    createdAt: "2026-03-02T09:00:00.000+08:00",
    status: "waiting",
    expectedVersion: null,
    attempts: 0,
    payload: { transition: name, label: name, target, input: {}, location: null },
    ...extra,
  } as OutboxItem;
}

export function report(jobId: number, extra: Partial<OutboxItem> = {}): OutboxItem {
  seq += 1;
  return {
    seq,
    kind: "report",
    key: `key-${seq}`,
    jobId,
    createdAt: "2026-03-02T09:00:00.000+08:00",
    status: "waiting",
    expectedVersion: null,
    attempts: 0,
    payload: { work_notes: null, checklist: [], parts: [], labour_minutes: null, resolution_code: null },
    ...extra,
  } as OutboxItem;
}
