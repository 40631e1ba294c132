// A job's state in the technician's language (the server's label when it named this state).
import { lookup } from "../i18n";
import { useI18n } from "./i18n";

export function StateLabel({ state, fallback }: { state: string; fallback: string | null }) {
  const { locale } = useI18n();
  const label = fallback ?? lookup(locale, `state.${state}`) ?? state;
  return (
    <span class={`state state-${state}`} data-testid="state">
      {label}
    </span>
  );
}
