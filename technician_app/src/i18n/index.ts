// Messages in English and Simplified Chinese: one file per locale, the same keys in each.
import en from "./en.json";
import zhCN from "./zh_CN.json";

export type MessageKey = keyof typeof en;
export type Locale = "en" | "zh_CN";
export const LOCALES: readonly Locale[] = ["en", "zh_CN"];

export const MESSAGES: Record<Locale, Record<MessageKey, string>> = { en, zh_CN: zhCN };

/** Return the supported locale for a profile or browser language tag. */
export function pickLocale(tag: string | null | undefined): Locale {
  return tag?.toLowerCase().startsWith("zh") ? "zh_CN" : "en";
}

export type Translate = (key: MessageKey, params?: Record<string, string | number>) => string;

/** Return the message function of a locale; `{name}` placeholders take `params`. */
export function translator(locale: Locale): Translate {
  const messages = MESSAGES[locale];
  return (key, params) =>
    messages[key].replace(/\{(\w+)\}/g, (whole, name: string) =>
      params && name in params ? String(params[name]) : whole,
    );
}

/** Return the message for a key built at run time, or null when there is none. */
export function lookup(locale: Locale, key: string): string | null {
  const messages = MESSAGES[locale] as Record<string, string>;
  return key in messages ? (messages[key] ?? null) : null;
}

/** Return the BCP 47 tag for dates and numbers. */
export function languageTag(locale: Locale): string {
  return locale === "zh_CN" ? "zh-CN" : "en-GB";
}
