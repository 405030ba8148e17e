import { useCallback, useState, type ReactNode } from 'react';
import { ApiProblem } from '../api/client';

/** The props a control needs to be tied to its label and its error. */
export interface ControlProps {
  id: string;
  'aria-invalid': boolean;
  'aria-describedby': string | undefined;
}

/** A labelled control with its hint and, from the API's problem, its error right beside it. */
export function Field(props: {
  id: string;
  label: ReactNode;
  error?: string | undefined;
  hint?: ReactNode;
  children: (control: ControlProps) => ReactNode;
}) {
  const { id, label, error, hint, children } = props;
  const describedBy = [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div className={error ? 'field field-invalid' : 'field'}>
      <label htmlFor={id}>{label}</label>
      {children({ id, 'aria-invalid': Boolean(error), 'aria-describedby': describedBy })}
      {hint ? (
        <p className="hint" id={`${id}-hint`}>
          {hint}
        </p>
      ) : null}
      <FieldError id={`${id}-error`} error={error} />
    </div>
  );
}

export function FieldError({ id, error }: { id: string; error?: string | undefined }) {
  return error ? (
    <p className="field-error" id={id}>
      {error}
    </p>
  ) : null;
}

export interface ProblemState {
  problem: ApiProblem | null;
  /** The error of one field: `body.<path>` as the API names it (or the bare name, e.g. `consent`). */
  errorOf: (path: string) => string | undefined;
  /** Runs an API action; a refusal is kept for the form, anything else rethrown. Returns undefined on refusal. */
  run: <T>(action: () => Promise<T>) => Promise<T | undefined>;
  set: (problem: ApiProblem | null) => void;
}

export function useProblem(): ProblemState {
  const [problem, set] = useState<ApiProblem | null>(null);
  const errorOf = useCallback(
    (path: string) => {
      const hit = problem?.errors.find((e) =>
        [`body.${path}`, `query.${path}`, path].some((p) => e.field === p || e.field.startsWith(`${p}.`)),
      );
      return hit?.message;
    },
    [problem],
  );
  const run = useCallback(async <T,>(action: () => Promise<T>) => {
    set(null);
    try {
      return await action();
    } catch (err) {
      if (err instanceof ApiProblem) {
        set(err);
        return undefined;
      }
      set(new ApiProblem(0, err instanceof Error ? err.message : String(err), []));
      return undefined;
    }
  }, []);
  return { problem, errorOf, run, set };
}

/** The problem's detail, announced to screen readers, above the form. */
export function ProblemAlert({ problem }: { problem: ApiProblem | null }) {
  if (!problem) return null;
  return (
    <div className="alert" role="alert">
      <p>{problem.detail}</p>
    </div>
  );
}
