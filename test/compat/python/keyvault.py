# Child process of python-sdks.test.ts: azure-keyvault-secrets' SecretClient with default options
# (challenge resource verification on) on a vault's `vaultUri`, authenticated by
# ManagedIdentityCredential through the agent's IMDS: the VM's system-assigned identity (Key Vault
# Secrets User) reads the secret and may not set it; a user-assigned identity with no role may not
# read it.
#
# Inputs: AZURE_POD_IDENTITY_AUTHORITY_HOST (the agent's IMDS URL), REQUESTS_CA_BUNDLE (Tessera's
# CA), TESSERA_COMPAT_VAULT_URL, TESSERA_COMPAT_DNS_SUFFIX (`vault.localhost`),
# TESSERA_COMPAT_SECRET (a secret's name), TESSERA_COMPAT_NO_ROLE_CLIENT_ID.
from azure.identity import ManagedIdentityCredential
from azure.keyvault.secrets import SecretClient

from compat_kit import inp, outcome_of, report, resolve_to_loopback


def secret_of(secret):
    """A KeyVaultSecret as JSON."""
    props = secret.properties
    return {
        "name": secret.name,
        "value": secret.value,
        "id": secret.id,
        "version": props.version,
        "vaultUrl": props.vault_url,
        "enabled": props.enabled,
        "contentType": props.content_type,
        "tags": props.tags,
        "recoveryLevel": props.recovery_level,
    }


def steps(step):
    # TEST ONLY: `{vault}.vault.localhost` to 127.0.0.1, which glibc does not do.
    resolve_to_loopback(inp("DNS_SUFFIX"))
    vault_url = inp("VAULT_URL")
    name = inp("SECRET")
    user = SecretClient(vault_url, ManagedIdentityCredential())
    step("got", lambda: secret_of(user.get_secret(name)))
    step("setDenied", lambda: outcome_of(lambda: secret_of(user.set_secret(name, "overwritten"))))
    nobody = SecretClient(vault_url, ManagedIdentityCredential(client_id=inp("NO_ROLE_CLIENT_ID")))
    step("getDenied", lambda: outcome_of(lambda: secret_of(nobody.get_secret(name))))


report(steps)
