import type { SandboxConfig } from './config.js';

/** The ids and fake tokens a sandbox serves, for tests, the demo and the CLI banner. */
export interface SandboxFixtures {
  appId: string;
  appSecret: string;
  systemUserToken: string;
  userToken: string;
  expiredToken: string;
  noAdsManagementToken: string;
  /** `act_<digits>`, custom-audience terms accepted. */
  adAccountId: string;
  adAccountWithoutTermsId: string;
  businessId: string;
}

export function fixturesOf(config: SandboxConfig): SandboxFixtures {
  const token = (role: string) => config.tokens.find((t) => t.role === role)?.token ?? '';
  const withTerms = config.adAccounts.find((a) => a.tosAccepted);
  const withoutTerms = config.adAccounts.find((a) => !a.tosAccepted);
  return {
    appId: config.appId,
    appSecret: config.appSecret,
    systemUserToken: token('system'),
    userToken: token('user'),
    expiredToken: token('expired'),
    noAdsManagementToken: token('noAdsManagement'),
    adAccountId: withTerms ? `act_${withTerms.id}` : '',
    adAccountWithoutTermsId: withoutTerms ? `act_${withoutTerms.id}` : '',
    businessId: config.businessId,
  };
}
