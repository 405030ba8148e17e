/**
 * Synthetic, deliberately messy customer profiles for demos, tests and benchmarks: pure and seeded, so
 * profile `i` is the same on every machine and can be regenerated alone (which is how duplicates are made).
 * E-mail addresses use the reserved example.* domains and phone numbers are random, so demo data sent to a real
 * audience by mistake would match no real person's e-mail. The one generator of demo data: the seed writes it as
 * COPY text lines (what seeding 10 million rows in minutes needs), tests and benchmarks use the profiles directly.
 */

import type { AttributeMapping } from '../domain/mapping.js';

export const DemoSegment = { All: 'all', Vip: 'vip', OnePercent: 'one_percent', Newsletter: 'newsletter' } as const;
export type DemoSegment = (typeof DemoSegment)[keyof typeof DemoSegment];

export type DemoAttributes = {
  email: string | null;
  phone: string | null;
  first_name: string | null;
  last_name: string | null;
  gender: string | null;
  date_of_birth: string | null;
  city: string | null;
  state: string | null;
  zip: string | null;
  country: string | null;
  marketing_consent: boolean | null;
};

export interface DemoProfile {
  key: string;
  attributes: DemoAttributes;
}

/** Every Facebook key the demo profiles have an attribute for: what the demo exports, and the tests' standard mapping. */
export const DEMO_MAPPING: AttributeMapping = {
  EMAIL: { attribute: 'email' },
  PHONE: { attribute: 'phone' },
  FN: { attribute: 'first_name' },
  LN: { attribute: 'last_name' },
  GEN: { attribute: 'gender' },
  DOB: { attribute: 'date_of_birth' },
  CT: { attribute: 'city' },
  ST: { attribute: 'state' },
  ZIP: { attribute: 'zip' },
  COUNTRY: { attribute: 'country' },
};

/** Column order of the demo profiles table (and of COPY lines). */
export const DEMO_PROFILE_COLUMNS = [
  'key', 'email', 'phone', 'first_name', 'last_name', 'gender', 'date_of_birth',
  'city', 'state', 'zip', 'country', 'marketing_consent',
] as const; // prettier-ignore

export const demoKey = (index: number): string => `cust-${String(index).padStart(10, '0')}`;

/** The index a demo key was made from, or undefined. */
export function demoIndexOfKey(key: string): number | undefined {
  const m = /^cust-(\d{10})$/.exec(key);
  return m ? Number(m[1]) : undefined;
}

// --- seeded randomness -------------------------------------------------------------------------------------
// One mulberry32 stream per profile, seeded from (index, seed), so rows are independent and random-access.
let state = 0;
function reseed(index: number, seed: number): void {
  let h = Math.imul(index ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(seed + 0x632be5ab, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  state = (h ^ (h >>> 16)) >>> 0;
}
function rand(): number {
  state = (state + 0x6d2b79f5) | 0;
  let t = Math.imul(state ^ (state >>> 15), 1 | state);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const int = (n: number): number => Math.floor(rand() * n);
const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
const chance = (p: number): boolean => rand() < p;
function digits(n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += int(10);
  return s;
}
const pad2 = (n: number): string => (n < 10 ? `0${n}` : String(n));

// --- locales -----------------------------------------------------------------------------------------------
/** A name is `display|latin` where the display form has no Latin letters to build an e-mail handle from. */
interface Locale {
  weight: number;
  countries: readonly string[];
  first: readonly string[];
  last: readonly string[];
  /** [city, `state code|state name` (either may be empty), postal code template: # a digit, @ a letter] */
  places: readonly (readonly [string, string, string])[];
  phone: () => string;
  dayFirst: boolean;
}

const us = (): string => `${pick(['212', '415', '312', '617', '713', '206', '305', '404', '503', '702'])}`;
const sub7 = (): string => `${2 + int(8)}${digits(6)}`;

const LOCALES: readonly Locale[] = [
  {
    weight: 48,
    countries: ['US', 'US', 'us', 'USA', 'United States', 'United States of America', ' U.S. ', 'usa'],
    first: ['James', 'Mary', 'John', 'Patricia', 'Robert', 'Jennifer', 'Michael', 'Linda', 'William', 'Elizabeth',
      'David', 'Barbara', 'Zoë', 'Renée', 'José', 'Chloé', 'Mary-Kate', 'DeShawn', 'Nguyễn|nguyen', 'JOHN', 'susan'],
    last: ['Smith', 'Johnson', 'Williams', 'Brown', 'Jones', 'Garcia', 'Miller', 'Davis', "O'Brien", "O'Connor",
      "D'Angelo", 'McDonald', 'Rodríguez', 'Martínez', 'van der Berg', 'St. James', 'Smith-Jones', 'SMITH', 'lee'],
    places: [['San Francisco', 'CA|California', '941##'], ['New York', 'NY|New York', '100##'],
      ['Boston', 'MA|Massachusetts', '021##'], ['Chicago', 'IL|Illinois', '606##'], ['Houston', 'TX|Texas', '770##'],
      ['Seattle', 'WA|Washington', '981##'], ['Miami', 'FL|Florida', '331##'], ["Coeur d'Alene", 'ID|Idaho', '838##'],
      ['Española', 'NM|New Mexico', '875##'], ['Portland', 'OR|Oregon', '972##']],
    phone: () => {
      const a = us(), n = sub7(); // prettier-ignore
      const x = `${n.slice(0, 3)}`, y = n.slice(3); // prettier-ignore
      return pick([`(${a}) ${x}-${y}`, `${a}-${x}-${y}`, `${a}${n}`, `+1 ${a} ${x} ${y}`, `+1${a}${n}`,
        `1-${a}-${x}-${y}`, `${a}.${x}.${y}`]);
    },
    dayFirst: false,
  },
  {
    weight: 8,
    countries: ['GB', 'UK', 'United Kingdom', 'gb', 'Great Britain'],
    first: ['Oliver', 'Amelia', 'Harry', 'Isla', 'George', 'Siân', 'Niamh', 'Seán'],
    last: ['Taylor', 'Evans', "O'Neill", 'Fitzgerald-Smythe', 'Ó Briain|obriain', 'Wright'],
    places: [['London', 'England|', 'SW1A #@@'], ['Manchester', 'England|', 'M# #@@'], ['Edinburgh', 'Scotland|', 'EH# #@@']],
    phone: () => { const n = digits(3); return pick([`07700 900${n}`, `+44 7700 900${n}`, `020 7946 0${n}`, `+44 20 7946 0${n}`]); }, // prettier-ignore
    dayFirst: true,
  },
  {
    weight: 7,
    countries: ['DE', 'Germany', 'Deutschland', 'de'],
    first: ['Jürgen', 'Lukas', 'Mia', 'Sören', 'Björn', 'Anna-Lena'],
    last: ['Müller', 'Schröder', 'Weiß', 'Groß', 'Köhler', 'von Bülow'],
    places: [['Berlin', 'Berlin|', '10###'], ['München', 'Bayern|Bavaria', '80###'], ['Köln', 'NRW|', '50###']],
    phone: () => { const n = digits(7); return pick([`030 ${n}`, `+49 30 ${n}`, `0151 ${n}1`, `+49 151 ${n}1`, `0049 30 ${n}`]); }, // prettier-ignore
    dayFirst: true,
  },
  {
    weight: 6,
    countries: ['FR', 'France', 'fr'],
    first: ['François', 'Chloé', 'Hélène', 'Jérôme', 'Anaïs', 'Jean-Luc'],
    last: ['Lefèvre', 'Dupont', 'Bélanger', "D'Artagnan", 'Lemaître'],
    places: [['Paris', '', '750##'], ['Lyon', '', '6900#'], ['Orléans', '', '45000']],
    phone: () => {
      const p = [digits(2), digits(2), digits(2), digits(2)];
      return pick([`06 ${p.join(' ')}`, `+33 6 ${p.join(' ')}`, `00336${p.join('')}`, `06${p.join('')}`]);
    },
    dayFirst: true,
  },
  {
    weight: 4,
    countries: ['ES', 'Spain', 'España', 'es'],
    first: ['José', 'María', 'Ángel', 'Iñaki', 'Begoña'],
    last: ['Núñez', 'Peña', 'García', 'Ibáñez'],
    places: [['Madrid', 'Madrid|', '280##'], ['A Coruña', 'Galicia|', '150##'], ['Málaga', 'Andalucía|', '290##']],
    phone: () => { const a = digits(2), b = digits(3), c = digits(3); return pick([`6${a} ${b} ${c}`, `+34 6${a} ${b} ${c}`]); }, // prettier-ignore
    dayFirst: true,
  },
  {
    weight: 4,
    countries: ['CA', 'Canada', 'ca'],
    first: ['Geneviève', 'Marc-André', 'Émilie', 'Liam'],
    last: ['Tremblay', 'Côté', 'Gagné', "O'Reilly"],
    places: [['Montréal', 'QC|Québec', 'H#@ #@#'], ['Toronto', 'ON|Ontario', 'M#@ #@#'], ['Québec', 'QC|Quebec', 'G#@ #@#']],
    phone: () => { const a = pick(['514', '438', '416']), n = sub7(); return pick([`(${a}) ${n.slice(0, 3)}-${n.slice(3)}`, `+1 ${a} ${n}`]); }, // prettier-ignore
    dayFirst: false,
  },
  {
    weight: 4,
    countries: ['GR', 'Greece', 'Ελλάδα', 'gr'],
    first: ['Γιώργος|giorgos', 'Μαρία|maria', 'Νίκος|nikos', 'Ελένη|eleni'],
    last: ['Παπαδόπουλος|papadopoulos', 'Οικονόμου|oikonomou', 'Γεωργίου|georgiou'],
    places: [['Αθήνα', 'Αττική|', '1## ##'], ['Athens', 'Attica|', '10###'], ['Θεσσαλονίκη', '', '546 ##']],
    phone: () => { const n = digits(7); return pick([`+30 21 ${n}`, `21${n}0`, `+30 69${n}1`]); }, // prettier-ignore
    dayFirst: true,
  },
  {
    weight: 4,
    countries: ['RU', 'Russia', 'Russian Federation', 'Россия'],
    first: ['Иван|ivan', 'Ольга|olga', 'Дмитрий|dmitry', 'Наталья|natalya'],
    last: ['Петров|petrov', 'Смирнова|smirnova', 'Кузнецов|kuznetsov'],
    places: [['Москва', '', '101###'], ['Санкт-Петербург', '', '190###'], ['Moscow', '', '101000']],
    phone: () => { const n = digits(7); return pick([`+7 495 ${n.slice(0, 3)}-${n.slice(3, 5)}-${n.slice(5)}`, `8 (495) ${n}`, `+7 916 ${n}`]); }, // prettier-ignore
    dayFirst: true,
  },
  {
    weight: 4,
    countries: ['JP', 'Japan', '日本', 'jp'],
    first: ['花子|hanako', '太郎|taro', '陽翔|haruto', 'さくら|sakura'],
    last: ['佐藤|sato', '鈴木|suzuki', '高橋|takahashi', '田中|tanaka'],
    places: [['東京', '東京都|', '100-00##'], ['Tokyo', 'Tokyo|', '100-0001'], ['大阪', '大阪府|', '530-00##']],
    phone: () => { const n = digits(8); return pick([`03-${n.slice(0, 4)}-${n.slice(4)}`, `+81 3-${n.slice(0, 4)}-${n.slice(4)}`, `090-${n.slice(0, 4)}-${n.slice(4)}`]); }, // prettier-ignore
    dayFirst: false,
  },
  {
    weight: 3,
    countries: ['CN', 'China', '中国', "People's Republic of China"],
    first: ['伟|wei', '芳|fang', '娜|na', '秀英|xiuying'],
    last: ['王|wang', '李|li', '张|zhang', '刘|liu'],
    places: [['北京', '北京市|', '1000##'], ['上海', '上海市|', '2000##'], ['Shenzhen', 'Guangdong|', '518000']],
    phone: () => { const n = digits(8); return pick([`138 ${n.slice(0, 4)} ${n.slice(4)}`, `+86 138 ${n.slice(0, 4)} ${n.slice(4)}`, `138${n}`]); }, // prettier-ignore
    dayFirst: false,
  },
  {
    weight: 3,
    countries: ['AE', 'United Arab Emirates', 'UAE', 'الإمارات'],
    first: ['محمد|mohammed', 'فاطمة|fatima', 'أحمد|ahmed', 'ليلى|layla'],
    last: ['العلي|alali', 'حسن|hassan', 'المنصوري|almansoori'],
    places: [['دبي', '', ''], ['Dubai', 'Dubai|', ''], ['أبو ظبي', '', '']],
    phone: () => { const n = digits(7); return pick([`050 ${n.slice(0, 3)} ${n.slice(3)}`, `+971 50 ${n.slice(0, 3)} ${n.slice(3)}`, `00971 50${n}`]); }, // prettier-ignore
    dayFirst: true,
  },
  {
    weight: 3,
    countries: ['BR', 'Brazil', 'Brasil', 'br'],
    first: ['João', 'Luíza', 'Conceição', 'Thiago'],
    last: ['Gonçalves', 'Araújo', 'Simões', 'da Silva'],
    places: [['São Paulo', 'SP|São Paulo', '01###-###'], ['Rio de Janeiro', 'RJ|', '20###-###']],
    phone: () => { const n = digits(8); return pick([`(11) 9${n.slice(0, 4)}-${n.slice(4)}`, `+55 11 9${n.slice(0, 4)}-${n.slice(4)}`]); }, // prettier-ignore
    dayFirst: true,
  },
]; // prettier-ignore

const LOCALE_TABLE: readonly Locale[] = LOCALES.flatMap((l) => Array<Locale>(l.weight).fill(l));
const DOMAINS = ['example.com', 'example.org', 'example.net', 'mail.example.com', 'Example.COM', 'EXAMPLE.net'];
const GENDERS = ['m', 'f', 'M', 'F', 'male', 'female', 'Male', 'Female', ' f ', 'FEMALE', 'x', '', 'unknown'];
const MONTH_NAMES = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September',
  'October', 'November', 'December']; // prettier-ignore

const displayOf = (name: string): string => name.split('|')[0]!;
/** The e-mail handle part of a name: its given Latin form, or the display form with accents stripped. */
const latinCache = new Map<string, string>();
function latinOf(name: string): string {
  let latin = latinCache.get(name);
  if (latin === undefined) {
    const [display, given] = name.split('|') as [string, string | undefined];
    latin = (given ?? display)
      .normalize('NFD')
      .replace(/[\u0300-\u036f]/g, '')
      .toLowerCase()
      .replace(/[^a-z0-9]/g, '');
    latinCache.set(name, latin);
  }
  return latin;
}

/** Fills a postal template: # a digit, @ a capital letter; other characters stay. */
function postal(template: string): string {
  let out = '';
  for (const ch of template) out += ch === '#' ? int(10) : ch === '@' ? String.fromCharCode(65 + int(26)) : ch;
  return out;
}

function messyCase(s: string): string {
  const r = rand();
  if (r < 0.8) return s;
  if (r < 0.88) return s.toUpperCase();
  if (r < 0.94) return s.toLowerCase();
  return ` ${s}  `;
}

function dateOfBirth(dayFirst: boolean): string | null {
  if (chance(0.1)) return null;
  const y = 1940 + int(68), m = 1 + int(12), d = 1 + int(28); // prettier-ignore
  const r = rand();
  if (r < 0.005) return `${y}-02-30`; // impossible, must be dropped
  if (r < 0.01) return `${pad2(d)}/${pad2(m)}/${String(y).slice(2)}`; // two-digit year, unusable
  if (r < 0.4) return `${y}-${pad2(m)}-${pad2(d)}`;
  if (r < 0.75) return dayFirst ? `${pad2(d)}.${pad2(m)}.${y}` : `${pad2(m)}/${pad2(d)}/${y}`;
  if (r < 0.88) return `${y}${pad2(m)}${pad2(d)}`;
  return dayFirst ? `${d} ${MONTH_NAMES[m - 1]!} ${y}` : `${MONTH_NAMES[m - 1]!.slice(0, 3)} ${d}, ${y}`;
}

/** The e-mail profile `index` would have before duplication: used to copy it onto a later profile. */
function baseEmail(first: string, last: string): string {
  // Enough digits that accidental collisions stay rare; deliberate duplicates are made below.
  const n = int(100_000);
  const handle = pick([
    `${latinOf(first)}.${latinOf(last)}${n}`,
    `${latinOf(first)}${latinOf(last)}${n}`,
    `${latinOf(first).slice(0, 1)}${latinOf(last)}${n}`,
    `${latinOf(last)}_${latinOf(first)}${n}`,
  ]);
  return `${handle}@${pick(DOMAINS)}`;
}

interface Draft {
  attributes: DemoAttributes;
  segments: DemoSegment[];
}

/** The first draws of a profile's stream decide consent and membership, so both can be had without the rest. */
function drawMembership(): { marketing_consent: boolean | null; vip: boolean; onePercent: boolean } {
  const consent = rand();
  return {
    marketing_consent: consent < 0.55 ? true : consent < 0.8 ? false : null,
    vip: chance(0.05),
    onePercent: chance(0.01),
  };
}

function segmentsOf(m: ReturnType<typeof drawMembership>): DemoSegment[] {
  const segments: DemoSegment[] = [DemoSegment.All];
  if (m.vip) segments.push(DemoSegment.Vip);
  if (m.onePercent) segments.push(DemoSegment.OnePercent);
  if (m.marketing_consent === true) segments.push(DemoSegment.Newsletter);
  return segments;
}

/** The segments of profile `index`, as {@link generateDemoProfile} gives them, at a fraction of the cost. */
export function demoSegmentsOf(index: number, seed = 1): DemoSegment[] {
  reseed(index, seed);
  return segmentsOf(drawMembership());
}

function draft(index: number, seed: number): Draft {
  reseed(index, seed);
  const membership = drawMembership();
  const { marketing_consent } = membership;
  const locale = pick(LOCALE_TABLE);
  const first = pick(locale.first);
  const last = pick(locale.last);
  let email: string | null = baseEmail(first, last);
  const e = rand();
  if (e < 0.07) email = null;
  else if (e < 0.17)
    email = email.replace(/^./, (c) => c.toUpperCase()).replace(/\.(.)/, (_, c: string) => `.${c.toUpperCase()}`);
  else if (e < 0.21) email = email.toUpperCase();
  else if (e < 0.26) email = `  ${email} `;
  const [city, states, zipTemplate] = pick(locale.places);
  const [stateCode, stateName] = states.split('|') as [string, string | undefined];
  const zip = zipTemplate === '' ? null : postal(zipTemplate);
  const attributes: DemoAttributes = {
    email,
    phone: chance(0.15) ? null : locale.phone(),
    first_name: chance(0.03) ? null : messyCase(displayOf(first)),
    last_name: chance(0.03) ? null : messyCase(displayOf(last)),
    gender: chance(0.2) ? null : pick(GENDERS),
    date_of_birth: dateOfBirth(locale.dayFirst),
    city: chance(0.05) ? null : messyCase(city),
    state: stateCode === '' || chance(0.1) ? null : stateName && chance(0.3) ? stateName : chance(0.1) ? stateCode.toLowerCase() : stateCode,
    zip: zip !== null && locale === LOCALES[0] && chance(0.2) ? `${zip}-${digits(4)}` : zip, // ZIP+4
    country: chance(0.05) ? null : pick(locale.countries),
    marketing_consent,
  }; // prettier-ignore
  return { attributes, segments: segmentsOf(membership) };
}

/** About 1% of profiles share an e-mail address with an earlier profile (a household, a duplicate record). */
const DUPLICATE_EMAIL_SHARE = 0.01;

/** Profile `index` (1-based) of the demo data set for `seed`: the same on every call. */
export function generateDemoProfile(index: number, seed = 1): DemoProfile & { segments: DemoSegment[] } {
  const { attributes, segments } = draft(index, seed);
  if (index > 1 && chance(DUPLICATE_EMAIL_SHARE)) {
    const other = Math.max(1, index - 1 - int(1000));
    const { attributes: source } = draft(other, seed);
    if (source.email !== null) attributes.email = source.email.trim().toLowerCase();
  }
  return { key: demoKey(index), attributes, segments };
}

/** COPY text format: NULL is \N; generated values never hold tabs, newlines or backslashes (checked below). */
const cell = (v: string | boolean | null): string => (v === null ? '\\N' : v === true ? 't' : v === false ? 'f' : v);

/** One COPY text line (with its newline) for a profile, columns in {@link DEMO_PROFILE_COLUMNS} order. */
export function profileCopyLine(p: DemoProfile): string {
  const a = p.attributes;
  return `${p.key}\t${cell(a.email)}\t${cell(a.phone)}\t${cell(a.first_name)}\t${cell(a.last_name)}\t${cell(a.gender)}\t${cell(a.date_of_birth)}\t${cell(a.city)}\t${cell(a.state)}\t${cell(a.zip)}\t${cell(a.country)}\t${cell(a.marketing_consent)}\n`;
}

// Every literal the generator can emit is checked once, so the per-row path needs no escaping.
for (const s of [
  ...LOCALES.flatMap((l) => [...l.countries, ...l.first, ...l.last, ...l.places.flat()]),
  ...DOMAINS,
  ...GENDERS,
  ...MONTH_NAMES,
]) {
  if (/[\t\n\r\\]/.test(s)) throw new Error('demo literal would need COPY escaping');
}
