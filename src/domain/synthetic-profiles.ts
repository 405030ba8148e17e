/**
 * Deterministic, realistically messy customer profiles for the demo seed, tests and benchmarks. Pure: the same
 * (index, seed) always gives the same profile, and any profile can be generated without the others.
 * All attribute values are JSON-safe (strings, numbers, booleans), as they would come back from a database.
 */
export interface SyntheticProfile {
  key: string;
  attributes: Record<string, string | number | boolean>;
}

const FIRST_NAMES = [
  'John', 'Mary', 'José', 'Zoë', 'Anne-Marie', 'Łukasz', 'François', 'Mary Ann', 'Jürgen', 'Siobhán', 'Chloé',
  'Mohammed', 'Wei', 'Ana', 'Björn', 'Noël', 'Olivia', 'Liam', 'Emma', 'Noah', 'Sofía', 'Mateo', 'Ines', 'Ravi',
  'Priya', 'Kenji', '민준', 'Александр', 'Ελένη', 'Jean-Luc', 'D\'Arcy', 'Renée', 'Åsa', 'Øystein', 'Ægir',
]; // prettier-ignore
const LAST_NAMES = [
  'Doe', 'Smith', "O'Brien", 'Müller', 'García', 'Nguyễn', 'van der Berg', 'Kowalski', 'Dubois', 'Rossi', 'Silva',
  'Johnson', 'Williams', 'Brown', 'Jones', 'Miller', 'Davis', 'López', 'González', 'Wilson', 'Anderson', 'Thomas',
  'Taylor', 'Moore', 'Jackson', 'Martin', 'Lee', 'Pérez', 'Thompson', 'White', 'Harris', 'Sánchez', 'Clark',
  'Ramírez', 'Lewis', 'Robinson', 'Walker', 'Young', 'Allen', 'King', 'Wright', 'Scott', 'Torres', 'Hill',
  '김', 'Иванов', 'Παπαδόπουλος', 'St. John', 'Smith-Jones', 'MacDonald',
]; // prettier-ignore
const DOMAINS = ['example.com', 'mail.example.org', 'example.co.uk', 'beispiel.de', 'exemple.fr', 'example.net'];

interface Place {
  country: readonly string[];
  city: string;
  state: readonly string[];
  zip: (rand: () => number) => string;
  phone: (rand: () => number) => string;
  monthFirst: boolean;
}

const digits = (rand: () => number, count: number): string =>
  Array.from({ length: count }, () => Math.floor(rand() * 10)).join('');

const usPhone = (rand: () => number): string => {
  const area = `${2 + Math.floor(rand() * 8)}${digits(rand, 2)}`;
  const exchange = `${2 + Math.floor(rand() * 8)}${digits(rand, 2)}`;
  const line = digits(rand, 4);
  return pick(rand, [
    `+1 (${area}) ${exchange}-${line}`,
    `(${area}) ${exchange}-${line}`,
    `${area}.${exchange}.${line}`,
    `1-${area}-${exchange}-${line}`,
    `${area}${exchange}${line}`,
    `+1${area}${exchange}${line}`,
    `011 1 ${area} ${exchange} ${line}`,
  ]);
};

const PLACES: readonly Place[] = [
  ...(
    [
      ['San Francisco', 'California', 'CA', '94'],
      ['New York', 'New York', 'NY', '10'],
      ['Austin', 'Texas', 'TX', '78'],
      ['Chicago', 'Illinois', 'IL', '60'],
      ['Seattle', 'Washington', 'WA', '98'],
      ['Boston', 'Massachusetts', 'MA', '02'],
      ['Miami', 'Florida', 'FL', '33'],
      ['Washington', 'District of Columbia', 'DC', '20'],
    ] as const
  ).map(([city, stateName, stateCode, zipPrefix]): Place => ({
    country: ['US', 'USA', 'United States', 'u.s.', 'us', 'United States of America'],
    city,
    state: [stateName, stateCode, stateCode.toLowerCase()],
    zip: (rand) => `${zipPrefix}${digits(rand, 3)}`,
    phone: usPhone,
    monthFirst: true,
  })),
  {
    country: ['GB', 'United Kingdom', 'UK', 'GBR'],
    city: 'London',
    state: ['England', 'Greater London'],
    zip: () => 'SW1A 1AA',
    phone: (rand) =>
      pick(rand, [
        `07${digits(rand, 3)} ${digits(rand, 6)}`,
        `+44 20 ${digits(rand, 4)} ${digits(rand, 4)}`,
        `0044 7${digits(rand, 9)}`,
      ]),
    monthFirst: false,
  },
  {
    country: ['GB', 'United Kingdom'],
    city: 'Manchester',
    state: ['England'],
    zip: () => 'M1 1AE',
    phone: (rand) => `0161 ${digits(rand, 3)} ${digits(rand, 4)}`,
    monthFirst: false,
  },
  {
    country: ['DE', 'Germany', 'Deutschland', 'DEU'],
    city: 'München',
    state: ['Bayern', 'Bavaria'],
    zip: () => '80331',
    phone: (rand) => pick(rand, [`089 ${digits(rand, 7)}`, `+49 89 ${digits(rand, 7)}`, `0049 151 ${digits(rand, 8)}`]),
    monthFirst: false,
  },
  {
    country: ['FR', 'France', 'FRA'],
    city: 'Paris',
    state: ['Île-de-France'],
    zip: () => '75001',
    phone: (rand) =>
      pick(rand, [
        `06 ${digits(rand, 2)} ${digits(rand, 2)} ${digits(rand, 2)} ${digits(rand, 2)}`,
        `+33 1 ${digits(rand, 8)}`,
      ]),
    monthFirst: false,
  },
  {
    country: ['CA', 'Canada', 'CAN'],
    city: 'Montréal',
    state: ['Québec', 'QC'],
    zip: () => 'H2X 1Y4',
    phone: usPhone,
    monthFirst: true,
  },
  {
    country: ['BR', 'Brazil', 'Brasil'],
    city: 'São Paulo',
    state: ['SP', 'São Paulo'],
    zip: () => '01310-100',
    phone: (rand) => `+55 11 9${digits(rand, 4)}-${digits(rand, 4)}`,
    monthFirst: false,
  },
];

const MONTH_NAMES = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** mulberry32: a tiny, well-mixed 32-bit PRNG. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pick<T>(rand: () => number, items: readonly T[]): T {
  const item = items[Math.floor(rand() * items.length)];
  if (item === undefined) throw new RangeError('pick from an empty list');
  return item;
}

/** Random case and padding, the way hand-typed data arrives. */
function mess(rand: () => number, text: string): string {
  const roll = rand();
  const cased = roll < 0.15 ? text.toUpperCase() : roll < 0.3 ? text.toLowerCase() : text;
  return rand() < 0.2 ? `  ${cased} ` : cased;
}

function pad2(value: number): string {
  return value < 10 ? `0${value}` : String(value);
}

export function syntheticProfileKey(index: number): string {
  return `p-${String(index).padStart(8, '0')}`;
}

/**
 * One messy profile: attributes email, phone, first_name, last_name, gender, date_of_birth, city, state, zip,
 * country and (for most) marketing_consent; about one in twenty lacks any given field.
 */
export function generateProfile(index: number, seed = 1): SyntheticProfile {
  const rand = prng(Math.imul(index + 1, 0x9e3779b1) ^ Math.imul(seed, 0x85ebca6b));
  const place = pick(rand, PLACES);
  const first = pick(rand, FIRST_NAMES);
  const last = pick(rand, LAST_NAMES);
  const attributes: Record<string, string | number | boolean> = {};
  const present = (): boolean => rand() >= 0.05;

  if (present()) {
    const local = `${first}.${last}`.normalize('NFD').replace(/[^A-Za-z.]/g, '') || 'customer';
    const tag = rand() < 0.1 ? `+promo${Math.floor(rand() * 100)}` : '';
    const email = `${local}${index}${tag}@${pick(rand, DOMAINS)}`;
    attributes.email = rand() < 0.02 ? email.replace('@', ' at ') : mess(rand, email);
  }
  if (present()) {
    const phone = place.phone(rand);
    attributes.phone = rand() < 0.05 && /^\d+$/.test(phone) ? Number(phone) : phone;
  }
  if (present()) attributes.first_name = mess(rand, first);
  if (present()) attributes.last_name = mess(rand, last);
  if (present()) attributes.gender = pick(rand, ['M', 'F', 'male', 'female', ' Female ', 'f', 'm', 'x', 'unknown']);
  if (present()) {
    const year = 1940 + Math.floor(rand() * 66);
    const month = 1 + Math.floor(rand() * 12);
    const day = 1 + Math.floor(rand() * 28);
    const local = place.monthFirst ? `${pad2(month)}/${pad2(day)}/${year}` : `${pad2(day)}/${pad2(month)}/${year}`;
    attributes.date_of_birth = pick(rand, [
      `${year}-${pad2(month)}-${pad2(day)}`,
      local,
      `${year}${pad2(month)}${pad2(day)}`,
      `${MONTH_NAMES[month - 1]} ${day} ${year}`,
      `${year}-${pad2(month)}-${pad2(day)}T00:00:00Z`,
    ]);
  }
  if (present()) attributes.city = mess(rand, place.city);
  if (present()) attributes.state = mess(rand, pick(rand, place.state));
  if (present()) {
    const zip = place.zip(rand);
    attributes.zip =
      place.monthFirst && zip.length === 5 && rand() < 0.3 ? `${zip}-${digits(rand, 4)}` : mess(rand, zip);
  }
  if (present()) attributes.country = mess(rand, pick(rand, place.country));
  const consent = rand();
  if (consent < 0.85) attributes.marketing_consent = pick(rand, [true, 'yes', 'true', 'opted_in', 1, 'Y']);
  else if (consent < 0.95) attributes.marketing_consent = pick(rand, [false, 'no', 'opted_out', 0]);
  return { key: syntheticProfileKey(index), attributes };
}
