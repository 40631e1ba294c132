// The technician's language for every component: the profile's, unless switched here.
import { createContext } from "preact";
import { useContext } from "preact/hooks";
import { languageTag, translator, type Locale, type Translate } from "../i18n";

export interface LocaleContextValue {
  locale: Locale;
  t: Translate;
  /** Format a time of day (HH:MM) in the phone's zone. */
  time: (iso: string) => string;
  /** Format a date and time. */
  dateTime: (iso: string) => string;
  /** Format a calendar date. */
  date: (iso: string) => string;
}

/** Return the formatting and message helpers of a locale. */
export function localeValue(locale: Locale): LocaleContextValue {
  const tag = languageTag(locale);
  const time = new Intl.DateTimeFormat(tag, { hour: "2-digit", minute: "2-digit", hour12: false });
  const dateTime = new Intl.DateTimeFormat(tag, {
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    hour12: false,
  });
  const date = new Intl.DateTimeFormat(tag, { year: "numeric", month: "short", day: "numeric" });
  return {
    locale,
    t: translator(locale),
    time: (iso) => time.format(new Date(iso)),
    dateTime: (iso) => dateTime.format(new Date(iso)),
    date: (iso) => date.format(new Date(iso)),
  };
}

export const LocaleContext = createContext<LocaleContextValue>(localeValue("en"));

/** Return the current locale's helpers. */
export function useI18n(): LocaleContextValue {
  return useContext(LocaleContext);
}
