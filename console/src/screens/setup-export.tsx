import { useEffect, useState, type FormEvent } from 'react';
import { KEY_IDENTIFIER_LABELS, KEY_LABELS } from '../../../src/domain/key-labels.js';
import { MAPPABLE_KEYS, REQUIRED_KEYS } from '../../../src/domain/mapping-keys.js';
import type { KeyIdentifier, MappableKey } from '../../../src/domain/mapping-keys.js';
import { api, ApiProblem, call, type Destination, type Preview, type Schemas } from '../api/client';
import { Field, FieldError, ProblemAlert, useProblem } from '../components/field';
import { n } from '../format';
import { navigate } from '../router';

type Attribute = Schemas['AttributeList']['items'][number];
type Segment = Schemas['SegmentList']['items'][number];
interface Row {
  key: MappableKey;
  attribute: string;
}
type Mode = 'mirror' | 'replace' | 'add';

/** The key identifiers in the connector's order, so operators find them where they expect. */
const KEY_IDENTIFIER_ORDER: readonly KeyIdentifier[] = ['EMAIL', 'NAME_ADDRESS', 'PHONE'];

/** The keys a key identifier's rows start with: NAME_ADDRESS also asks for ZIP (or city and state). */
const startingKeys = (k: KeyIdentifier): MappableKey[] =>
  k === 'NAME_ADDRESS' ? [...REQUIRED_KEYS[k], 'ZIP'] : [...REQUIRED_KEYS[k]];

/** Attribute names that usually hold a key, to preselect the matching profile attribute. */
const USUAL_NAMES: Partial<Record<MappableKey, string[]>> = {
  EMAIL: ['email', 'email_address', 'e_mail', 'mail'],
  PHONE: ['phone', 'phone_number', 'mobile', 'mobile_phone'],
  FN: ['first_name', 'firstname', 'given_name'],
  LN: ['last_name', 'lastname', 'surname', 'family_name'],
  CT: ['city', 'town'],
  ST: ['state', 'region', 'province'],
  ZIP: ['zip', 'zip_code', 'postal_code', 'postcode'],
  COUNTRY: ['country', 'country_code'],
  GEN: ['gender', 'sex'],
  DOB: ['date_of_birth', 'dob', 'birth_date', 'birthday', 'birthdate'],
};
const matching = (key: MappableKey, attributes: Attribute[]): string =>
  attributes.find((a) => USUAL_NAMES[key]?.includes(a.name.toLowerCase()))?.name ?? '';

const MODE_HINTS: Record<Mode, string> = {
  mirror: 'Make the audience equal the segments: only who joined, changed or left is sent.',
  replace: 'Replace the whole audience at every run.',
  add: 'Only add members, never remove.',
};

/**
 * "New destination", second screen: Key identifier → mapping of the matching profile attributes → Add attribute →
 * Segments (with sizes) → a preview of key coverage and drops → Save.
 */
export function SetupExport({ id }: { id: string }) {
  const [destination, setDestination] = useState<Destination | null>(null);
  const [attributes, setAttributes] = useState<Attribute[]>([]);
  const [segments, setSegments] = useState<Segment[]>([]);
  const [keyIdentifier, setKeyIdentifier] = useState<KeyIdentifier>('EMAIL');
  const [rows, setRows] = useState<Row[]>([]);
  const [chosen, setChosen] = useState<string[]>([]);
  const [mode, setMode] = useState<Mode>('mirror');
  const [defaultCountry, setDefaultCountry] = useState('');
  const [previews, setPreviews] = useState<Preview[] | null>(null);
  const p = useProblem();
  const { run } = p;

  useEffect(() => {
    void run(async () => {
      const [d, attrs, segs] = await Promise.all([
        call(api.GET('/destinations/{id}', { params: { path: { id } } })),
        call(api.GET('/profile-source/attributes')),
        call(api.GET('/profile-source/segments')),
      ]);
      setDestination(d);
      setAttributes(attrs.items);
      setSegments(segs.items);
      const saved = await call(api.GET('/destinations/{id}/export-config', { params: { path: { id } } })).catch(
        (err: unknown) => {
          if (err instanceof ApiProblem && err.status === 404) return null;
          throw err;
        },
      );
      if (saved) {
        setKeyIdentifier(saved.keyIdentifier);
        setRows(Object.entries(saved.mapping).map(([key, m]) => ({ key: key as MappableKey, attribute: m.attribute })));
        setChosen(saved.segments);
        setMode(saved.mode);
        setDefaultCountry(saved.defaultCountry ?? '');
      } else {
        setRows(startingKeys('EMAIL').map((key) => ({ key, attribute: matching(key, attrs.items) })));
      }
    });
  }, [id, run]);

  const changeKeyIdentifier = (k: KeyIdentifier) => {
    setKeyIdentifier(k);
    setRows((current) => {
      const missing = startingKeys(k).filter((key) => !current.some((r) => r.key === key));
      return [...missing.map((key) => ({ key, attribute: matching(key, attributes) })), ...current];
    });
  };
  const setRow = (i: number, change: Partial<Row>) =>
    setRows((current) => current.map((r, j) => (j === i ? { ...r, ...change } : r)));
  const addAttribute = () => {
    const key = MAPPABLE_KEYS.find((k) => !rows.some((r) => r.key === k));
    if (key) setRows((current) => [...current, { key, attribute: matching(key, attributes) }]);
  };
  const removeRow = (i: number) => setRows((current) => current.filter((_, j) => j !== i));

  const mapping = (): Schemas['ExportConfig']['mapping'] =>
    Object.fromEntries(rows.filter((r) => r.attribute).map((r) => [r.key, { attribute: r.attribute }]));
  const country = defaultCountry.trim().toUpperCase() || null;

  const preview = () =>
    run(async () => {
      setPreviews(null);
      const results: Preview[] = [];
      for (const segment of chosen) {
        results.push(
          await call(
            api.POST('/destinations/{id}/export-config/preview', {
              params: { path: { id } },
              body: { segment, keyIdentifier, mapping: mapping(), defaultCountry: country },
            }),
          ),
        );
      }
      setPreviews(results);
    });

  const save = (e: FormEvent) => {
    e.preventDefault();
    void run(async () => {
      await call(
        api.PUT('/destinations/{id}/export-config', {
          params: { path: { id } },
          body: { keyIdentifier, mapping: mapping(), segments: chosen, mode, defaultCountry: country },
        }),
      );
      navigate({ page: 'destination', id });
    });
  };

  const required = new Set<MappableKey>(REQUIRED_KEYS[keyIdentifier]);
  return (
    <main>
      <h1>New destination</h1>
      <p className="steps">
        1. Connection · <strong>2. Export</strong>
        {destination ? ` — ${destination.displayName}` : ''}
      </p>
      <ProblemAlert problem={p.problem} />
      <form onSubmit={save} noValidate>
        <Field id="key-identifier" label="Key identifier" error={p.errorOf('keyIdentifier')}>
          {(c) => (
            <select {...c} value={keyIdentifier} onChange={(e) => changeKeyIdentifier(e.target.value as KeyIdentifier)}>
              {KEY_IDENTIFIER_ORDER.map((k) => (
                <option key={k} value={k}>
                  {KEY_IDENTIFIER_LABELS[k]}
                </option>
              ))}
            </select>
          )}
        </Field>

        <fieldset>
          <legend>Mapping: Facebook keys and the profile attributes that hold them</legend>
          <table className="mapping">
            <thead>
              <tr>
                <th scope="col">Facebook key</th>
                <th scope="col">Profile attribute</th>
                <th scope="col">
                  <span className="visually-hidden">Remove</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((row, i) => (
                <tr key={`${row.key}-${i}`}>
                  <td>
                    {required.has(row.key) ? (
                      <span id={`key-${i}`}>
                        {row.key} <span className="hint">{KEY_LABELS[row.key]} (required)</span>
                      </span>
                    ) : (
                      <>
                        <label className="visually-hidden" htmlFor={`key-${i}`}>
                          Facebook key of row {i + 1}
                        </label>
                        <select
                          id={`key-${i}`}
                          value={row.key}
                          onChange={(e) => setRow(i, { key: e.target.value as MappableKey })}
                        >
                          {MAPPABLE_KEYS.filter((k) => k === row.key || !rows.some((r) => r.key === k)).map((k) => (
                            <option key={k} value={k}>
                              {k}: {KEY_LABELS[k]}
                            </option>
                          ))}
                        </select>
                      </>
                    )}
                  </td>
                  <td>
                    <label className="visually-hidden" htmlFor={`attribute-${row.key}`}>
                      Profile attribute for {row.key}
                    </label>
                    <select
                      id={`attribute-${row.key}`}
                      value={row.attribute}
                      aria-invalid={Boolean(p.errorOf(`mapping.${row.key}`))}
                      aria-describedby={p.errorOf(`mapping.${row.key}`) ? `attribute-${row.key}-error` : undefined}
                      onChange={(e) => setRow(i, { attribute: e.target.value })}
                    >
                      <option value="">Not mapped</option>
                      {attributes.map((a) => (
                        <option key={a.name} value={a.name}>
                          {a.name} ({a.type})
                        </option>
                      ))}
                    </select>
                    <FieldError id={`attribute-${row.key}-error`} error={p.errorOf(`mapping.${row.key}`)} />
                  </td>
                  <td>
                    {required.has(row.key) ? null : (
                      <button type="button" className="link" onClick={() => removeRow(i)}>
                        Remove <span className="visually-hidden">{row.key}</span>
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <button type="button" onClick={addAttribute} disabled={rows.length >= MAPPABLE_KEYS.length}>
            Add attribute
          </button>
        </fieldset>

        <fieldset aria-describedby={p.errorOf('segments') ? 'segments-error' : undefined}>
          <legend>Segments</legend>
          {segments.map((s) => (
            <label className="choice" key={s.name}>
              <input
                type="checkbox"
                checked={chosen.includes(s.name)}
                onChange={(e) =>
                  setChosen((c) => (e.target.checked ? [...c, s.name] : c.filter((name) => name !== s.name)))
                }
              />{' '}
              {s.name} <span className="hint">({n(s.size)} profiles)</span>
            </label>
          ))}
          <FieldError id="segments-error" error={p.errorOf('segments')} />
        </fieldset>

        <Field id="mode" label="Mode" hint={MODE_HINTS[mode]} error={p.errorOf('mode')}>
          {(c) => (
            <select {...c} value={mode} onChange={(e) => setMode(e.target.value as Mode)}>
              <option value="mirror">Mirror</option>
              <option value="replace">Replace</option>
              <option value="add">Add only</option>
            </select>
          )}
        </Field>
        <Field
          id="default-country"
          label="Default country"
          hint="ISO code such as US, assumed for profiles without a country (phones need one)."
          error={p.errorOf('defaultCountry')}
        >
          {(c) => (
            <input {...c} maxLength={2} value={defaultCountry} onChange={(e) => setDefaultCountry(e.target.value)} />
          )}
        </Field>

        <section aria-labelledby="preview-heading">
          <h2 id="preview-heading">Preview</h2>
          <p className="hint">
            Counts the first profiles of each chosen segment the way an export would; sends nothing.
          </p>
          <button type="button" disabled={chosen.length === 0} onClick={() => void preview()}>
            Preview
          </button>
          {previews ? <PreviewTable previews={previews} /> : null}
        </section>

        <div className="actions">
          <button type="submit">Save</button>
        </div>
      </form>
    </main>
  );
}

function PreviewTable({ previews }: { previews: Preview[] }) {
  const pct = (part: number, whole: number) => (whole === 0 ? '—' : `${Math.round((part / whole) * 100)}%`);
  return (
    <div aria-live="polite">
      {previews.map((v) => (
        <table key={v.segment} className="preview">
          <caption>
            {v.segment}: {n(v.segmentSize)} profiles, {n(v.sampled)} examined
          </caption>
          <tbody>
            <tr>
              <th scope="row">Usable key identifier</th>
              <td>
                {n(v.usableKeyIdentifier)} ({pct(v.usableKeyIdentifier, v.sampled)})
              </td>
            </tr>
            <tr>
              <th scope="row">Would be sent</th>
              <td>
                {n(v.exportable)} ({pct(v.exportable, v.sampled)})
              </td>
            </tr>
            {Object.entries(v.keys).map(([key, count]) => (
              <tr key={key}>
                <th scope="row">Carry {key}</th>
                <td>
                  {n(count)} ({pct(count, v.exportable)})
                </td>
              </tr>
            ))}
            {Object.entries(v.dropped)
              .filter(([, count]) => count > 0)
              .map(([reason, count]) => (
                <tr key={reason}>
                  <th scope="row">Dropped: {reason.replaceAll('_', ' ')}</th>
                  <td>{n(count)}</td>
                </tr>
              ))}
          </tbody>
        </table>
      ))}
    </div>
  );
}
