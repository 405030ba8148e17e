import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

const problemsOf = (env: Record<string, string>): string[] => {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  return [];
};

describe('configuration', () => {
  it('refuses an app secret shorter than a Meta app secret, naming the variable and not the value', () => {
    const short = '0123456789abcdef0123456789abcde'; // 31 characters: a copy that lost one
    const problems = problemsOf({ FACEBOOK_APP_ID: '1234567890', FACEBOOK_APP_SECRET: short });
    expect(problems).toEqual([expect.stringMatching(/^FACEBOOK_APP_SECRET: .*32 characters/)]);
    expect(problems.join('\n')).not.toContain(short);
    const secret = '0123456789abcdef0123456789abcdef';
    expect(loadConfig({ FACEBOOK_APP_ID: '1234567890', FACEBOOK_APP_SECRET: secret }).facebook.appSecret).toBe(secret);
  });

  it('takes an optional numeric FACEBOOK_LOGIN_CONFIG_ID (Facebook Login for Business)', () => {
    expect(loadConfig({}).facebook.loginConfigId).toBeUndefined();
    expect(loadConfig({ FACEBOOK_LOGIN_CONFIG_ID: '123456789012345' }).facebook.loginConfigId).toBe('123456789012345');
    expect(problemsOf({ FACEBOOK_LOGIN_CONFIG_ID: 'ads_management' })).toEqual([
      expect.stringMatching(/^FACEBOOK_LOGIN_CONFIG_ID: must be the numeric configuration id/),
    ]);
  });
});
