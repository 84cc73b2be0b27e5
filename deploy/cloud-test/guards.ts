/** Why a cloud suite cannot run here (credentials, CLI), as a sentence to print — or undefined when it can. */
export type Provider = "aws" | "azure";

export function credentialsMissing(provider: Provider, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (provider === "aws") {
    const keys = env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY;
    const oidc = env.AWS_ROLE_ARN && env.AWS_WEB_IDENTITY_TOKEN_FILE;
    return keys || oidc || env.AWS_PROFILE ? undefined : "no AWS credentials (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or OIDC AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE)";
  }
  const sub = env.AZURE_SUBSCRIPTION_ID ?? env.ARM_SUBSCRIPTION_ID;
  const client = env.AZURE_CLIENT_ID ?? env.ARM_CLIENT_ID;
  const tenant = env.AZURE_TENANT_ID ?? env.ARM_TENANT_ID;
  const secret = env.AZURE_CLIENT_SECRET ?? env.ARM_CLIENT_SECRET;
  const oidc = env.ARM_USE_OIDC === "true" || env.AZURE_FEDERATED_TOKEN_FILE;
  return sub && client && tenant && (secret || oidc) ? undefined : "no Azure credentials (AZURE_SUBSCRIPTION_ID, AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_CLIENT_SECRET, or OIDC via ARM_USE_OIDC / AZURE_FEDERATED_TOKEN_FILE)";
}

export function skipReason(provider: Provider, hasPulumiCli: boolean, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const creds = credentialsMissing(provider, env);
  if (creds) return `${provider}: ${creds}`;
  if (!hasPulumiCli) return `${provider}: the Pulumi CLI is not on PATH (install: curl -fsSL https://get.pulumi.com | sh)`;
  return undefined;
}
