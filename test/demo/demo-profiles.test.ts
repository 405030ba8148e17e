import { expect, it } from 'vitest';
import { DemoSegment, demoSegmentsOf, generateDemoProfile, profileCopyLine } from '../../src/demo/demo-profiles.js';

const N = 20_000;
const profiles = Array.from({ length: N }, (_, i) => generateDemoProfile(i + 1, 42));
const share = (pred: (p: (typeof profiles)[number]) => boolean) => profiles.filter(pred).length / N;
const values = (field: keyof (typeof profiles)[number]['attributes']) =>
  profiles.map((p) => p.attributes[field]).filter((v): v is string => typeof v === 'string');

it('is deterministic per (index, seed) and differs across seeds', () => {
  expect(generateDemoProfile(1234, 42)).toEqual(profiles[1233]);
  expect(generateDemoProfile(1234, 43)).not.toEqual(profiles[1233]);
  expect(profiles[0]!.key).toBe('cust-0000000001');
});

it('is messy the way real CRM exports are', () => {
  const emails = values('email');
  expect(emails.some((e) => e !== e.trim())).toBe(true);
  expect(emails.some((e) => e !== e.toLowerCase())).toBe(true);
  expect(share((p) => p.attributes.email === null)).toBeGreaterThan(0.03);
  const normalized = emails.map((e) => e.trim().toLowerCase());
  const duplicates = normalized.length - new Set(normalized).size;
  expect(duplicates / N).toBeGreaterThan(0.005);
  expect(duplicates / N).toBeLessThan(0.05);
  expect(emails.every((e) => /@(mail\.)?example\.(com|org|net)\s*$/i.test(e))).toBe(true);

  const phones = values('phone');
  expect(phones.some((p) => p.startsWith('+'))).toBe(true);
  expect(phones.some((p) => p.startsWith('('))).toBe(true);
  expect(phones.some((p) => /^0\d/.test(p))).toBe(true);

  const names = [...values('first_name'), ...values('last_name')].join(' ');
  for (const script of [
    /\p{Script=Greek}/u,
    /\p{Script=Cyrillic}/u,
    /\p{Script=Han}/u,
    /\p{Script=Arabic}/u,
    /[éüñç]/,
    /'/,
  ])
    expect(names).toMatch(script);
  expect(values('zip').some((z) => /^\d{5}-\d{4}$/.test(z))).toBe(true);
  const countries = new Set(values('country'));
  for (const c of ['US', 'United States', 'usa', 'GB', 'UK', 'Deutschland']) expect(countries).toContain(c);
  const dobs = values('date_of_birth');
  expect(dobs.some((d) => /^\d{4}-\d{2}-\d{2}$/.test(d))).toBe(true);
  expect(dobs.some((d) => /^\d{2}\/\d{2}\/\d{4}$/.test(d))).toBe(true);
  expect(dobs.some((d) => /^\d{2}\.\d{2}\.\d{4}$/.test(d))).toBe(true);
  expect(share((p) => p.attributes.marketing_consent === null)).toBeGreaterThan(0.1);
});

it('puts everyone in all, about 5% in vip, 1% in one_percent, and only consenting profiles in newsletter', () => {
  expect(share((p) => p.segments.includes(DemoSegment.All))).toBe(1);
  expect(share((p) => p.segments.includes(DemoSegment.Vip))).toBeCloseTo(0.05, 1);
  expect(share((p) => p.segments.includes(DemoSegment.OnePercent))).toBeGreaterThan(0.005);
  expect(share((p) => p.segments.includes(DemoSegment.OnePercent))).toBeLessThan(0.015);
  const newsletter = profiles.filter((p) => p.segments.includes(DemoSegment.Newsletter));
  expect(newsletter.length).toBeGreaterThan(0);
  expect(newsletter.every((p) => p.attributes.marketing_consent === true)).toBe(true);
  expect(profiles.slice(0, 2000).every((p, i) => demoSegmentsOf(i + 1, 42).join() === p.segments.join())).toBe(true);
});

it('writes COPY lines with twelve columns and \\N for missing values', () => {
  for (const p of profiles.slice(0, 500)) {
    const line = profileCopyLine(p);
    expect(line.endsWith('\n')).toBe(true);
    const cells = line.slice(0, -1).split('\t');
    expect(cells).toHaveLength(12);
    expect(cells[2]).toBe(p.attributes.phone ?? '\\N');
  }
});
