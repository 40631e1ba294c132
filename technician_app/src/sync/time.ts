// The phone's clock, written with its UTC offset (the server keeps it as the tap's time).

/** Return `date` as ISO 8601 with the phone's offset, e.g. 2026-03-02T09:41:07.123+08:00. */
export function phoneTime(date: Date = new Date()): string {
  const pad = (n: number, width = 2) => String(Math.trunc(Math.abs(n))).padStart(width, "0");
  const offset = -date.getTimezoneOffset();
  const sign = offset >= 0 ? "+" : "-";
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}` +
    `.${pad(date.getMilliseconds(), 3)}${sign}${pad(offset / 60)}:${pad(offset % 60)}`
  );
}

/** Return a random UUID (v4): Idempotency-Keys and client ids. */
export function newId(): string {
  return crypto.randomUUID();
}
