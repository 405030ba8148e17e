/**
 * The data privacy and compliance statement an operator agrees to before a destination may export, by version.
 * A consent record names the version agreed to, so the text of every version ever published stays here.
 */
export interface ConsentStatement {
  readonly version: string;
  readonly title: string;
  /** Paragraphs, plain text. */
  readonly paragraphs: readonly string[];
}

export const CONSENT_STATEMENTS: readonly ConsentStatement[] = [
  {
    version: '2026-01',
    title: 'Data privacy and compliance',
    paragraphs: [
      'Exporting to Facebook sends identifiers of your customers (e-mail addresses, phone numbers, names, addresses, ' +
        'dates of birth, gender and the other attributes you map) to Meta Platforms, outside this service and ' +
        'outside the data residency and retention rules that apply to it. The identifiers are normalised and ' +
        'hashed with SHA-256 before they leave, but Meta matches them against its own records, so they remain ' +
        'personal data.',
      'Meta processes the data under its own terms, including the Custom Audience terms each ad account must ' +
        'accept and its data processing terms. You are responsible for having a lawful basis and, where the law ' +
        'requires it, the consent of each customer for this transfer and this use, and for honouring requests to ' +
        'opt out or to erase their data.',
      'By agreeing you confirm that you are authorised to make this decision for your organisation and that you ' +
        'have reviewed the segments, attributes and audiences this destination exports. You can withdraw this ' +
        'consent at any time: exports of the destination stop at once, and its schedule is paused.',
    ],
  },
];

/** The version operators are asked to agree to now. */
export const CURRENT_CONSENT_STATEMENT: ConsentStatement = CONSENT_STATEMENTS[CONSENT_STATEMENTS.length - 1]!;

export function consentStatement(version: string): ConsentStatement | undefined {
  return CONSENT_STATEMENTS.find((s) => s.version === version);
}
