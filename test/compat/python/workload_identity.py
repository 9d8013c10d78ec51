# Child process of python-sdks.test.ts: azure-identity 1.13's ManagedIdentityCredential in a pod
# as the azure-workload-identity webhook sets it up; with AZURE_AUTHORITY_HOST, AZURE_TENANT_ID and
# AZURE_FEDERATED_TOKEN_FILE set it takes its token-exchange branch (1.13 has no
# WorkloadIdentityCredential) and trades the file's foreign token at Tessera's token endpoint; then
# SecretClient reads a secret with it.
#
# Inputs: AZURE_AUTHORITY_HOST, AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_FEDERATED_TOKEN_FILE,
# REQUESTS_CA_BUNDLE (Tessera's CA), TESSERA_COMPAT_VAULT_URL, TESSERA_COMPAT_DNS_SUFFIX,
# TESSERA_COMPAT_SECRET.
from azure.identity import ManagedIdentityCredential
from azure.keyvault.secrets import SecretClient

from compat_kit import inp, report, resolve_to_loopback, token_of

MANAGEMENT = "https://management.azure.com/.default"


def steps(step):
    # TEST ONLY: `{vault}.vault.localhost` to 127.0.0.1, which glibc does not do.
    resolve_to_loopback(inp("DNS_SUFFIX"))
    credential = ManagedIdentityCredential()
    step("token", lambda: token_of(credential.get_token(MANAGEMENT)))
    client = SecretClient(inp("VAULT_URL"), credential)
    step("value", lambda: client.get_secret(inp("SECRET")).value)


report(steps)
