import { describe, expect, it } from 'vitest';
import { adAccountDigits, termsUrl, toAdAccountId } from '../../src/facebook/ad-account-id.js';
import { appSecretProof } from '../../src/facebook/appsecret-proof.js';

describe('appSecretProof', () => {
  it('is HMAC-SHA256 of "<token>|<unix seconds>" keyed with the app secret (value from openssl)', () => {
    // echo -n "EAAtoken|1700000000" | openssl dgst -sha256 -hmac "app-secret-0123456789"
    expect(appSecretProof('EAAtoken', 'app-secret-0123456789', 1_700_000_000_999)).toEqual({
      appsecret_proof: '7b3aa06d07bea58e1f3e541e3a991a99e4599bb1f58578b0c94717979f3f0c9b',
      appsecret_time: '1700000000',
    });
  });

  it('changes with the second, so each request gets a fresh proof', () => {
    const a = appSecretProof('EAAtoken', 'app-secret-0123456789', 1_700_000_000_000);
    const b = appSecretProof('EAAtoken', 'app-secret-0123456789', 1_700_000_001_000);
    expect(a.appsecret_proof).not.toBe(b.appsecret_proof);
  });
});

describe('ad account ids', () => {
  it('normalises bare digits and act_ ids to act_<digits>', () => {
    expect(toAdAccountId('123')).toBe('act_123');
    expect(toAdAccountId('act_123')).toBe('act_123');
    expect(toAdAccountId(' act_123 ')).toBe('act_123');
    expect(adAccountDigits('act_987')).toBe('987');
  });

  it('refuses anything that is not digits, so it never becomes a wrong path', () => {
    for (const bad of ['', 'act_', 'act_12a', '../me', '12/users', 'act_act_1']) {
      expect(() => toAdAccountId(bad)).toThrow(/must be digits/);
    }
  });

  it('builds the Custom Audience terms URL for an account', () => {
    expect(termsUrl('act_42')).toBe('https://business.facebook.com/ads/manage/customaudiences/tos/?act=42');
    expect(termsUrl()).toBe('https://business.facebook.com/ads/manage/customaudiences/tos/');
  });
});
