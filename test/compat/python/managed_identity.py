# Child process of python-sdks.test.ts: azure-identity's ManagedIdentityCredential with each way
# of naming an identity, through the IMDS that AZURE_POD_IDENTITY_AUTHORITY_HOST names (a `tessera
# agent`'s, on loopback, where this process is the VM); prints each token and its expiry.
#
# Inputs: AZURE_POD_IDENTITY_AUTHORITY_HOST (the agent's IMDS URL),
# TESSERA_COMPAT_UAI1_CLIENT_ID, TESSERA_COMPAT_UAI1_OBJECT_ID, TESSERA_COMPAT_UAI2_RESOURCE_ID,
# TESSERA_COMPAT_UNKNOWN_CLIENT_ID (a client id of no identity of the VM).
from azure.identity import ManagedIdentityCredential

from compat_kit import inp, outcome_of, report, token_of

MANAGEMENT = "https://management.azure.com/.default"


def steps(step):
    system = ManagedIdentityCredential()
    step("system", lambda: token_of(system.get_token(MANAGEMENT)))
    # The same credential again: from its own cache, no request.
    step("systemAgain", lambda: token_of(system.get_token(MANAGEMENT)))
    by_client_id = ManagedIdentityCredential(client_id=inp("UAI1_CLIENT_ID"))
    step("clientId", lambda: token_of(by_client_id.get_token(MANAGEMENT)))
    # 1.13's IMDS source sends `identity_config` as query parameters, as they are: IMDS's names.
    by_object_id = ManagedIdentityCredential(identity_config={"object_id": inp("UAI1_OBJECT_ID")})
    step("objectId", lambda: token_of(by_object_id.get_token(MANAGEMENT)))
    by_msi_res_id = ManagedIdentityCredential(
        identity_config={"msi_res_id": inp("UAI2_RESOURCE_ID")}
    )
    step("msiResId", lambda: token_of(by_msi_res_id.get_token(MANAGEMENT)))
    by_mi_res_id = ManagedIdentityCredential(identity_config={"mi_res_id": inp("UAI2_RESOURCE_ID")})
    step("miResId", lambda: token_of(by_mi_res_id.get_token(MANAGEMENT)))
    unknown = ManagedIdentityCredential(client_id=inp("UNKNOWN_CLIENT_ID"))
    step("unknown", lambda: outcome_of(lambda: token_of(unknown.get_token(MANAGEMENT))))


report(steps)
