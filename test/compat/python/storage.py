# Child process of python-sdks.test.ts: azure-storage-blob's BlobServiceClient on Azurite's Blob
# endpoint over HTTPS with a token credential of azure-identity: the administrator's
# ClientSecretCredential at Tessera's token endpoint, or the VM's ManagedIdentityCredential
# through the agent's IMDS. Creates a container, uploads, lists, downloads and deletes a blob,
# deletes the container; prints the storage token the credential got, for the test to verify.
#
# Inputs: REQUESTS_CA_BUNDLE (the CA of Tessera's and Azurite's certificate),
# TESSERA_COMPAT_CREDENTIAL (`secret` or `managed`), TESSERA_COMPAT_BLOB_URL
# (`https://127.0.0.1:{port}/devstoreaccount1`), TESSERA_COMPAT_CONTAINER, TESSERA_COMPAT_CONTENT;
# for `secret` TESSERA_COMPAT_{URL,TENANT_ID,CLIENT_ID,SECRET_FILE}, for `managed`
# AZURE_POD_IDENTITY_AUTHORITY_HOST (the agent's IMDS URL).
from azure.identity import ClientSecretCredential, ManagedIdentityCredential
from azure.storage.blob import BlobServiceClient

from compat_kit import inp, outcome_of, report, token_of

STORAGE = "https://storage.azure.com/.default"


def credential():
    """The credential TESSERA_COMPAT_CREDENTIAL names."""
    if inp("CREDENTIAL") == "managed":
        return ManagedIdentityCredential()
    with open(inp("SECRET_FILE"), encoding="utf-8") as file:
        secret = file.read().strip()
    # instance_discovery=False: otherwise MSAL asks login.microsoftonline.com about Tessera's host.
    return ClientSecretCredential(
        inp("TENANT_ID"), inp("CLIENT_ID"), secret, authority=inp("URL"), instance_discovery=False
    )


def steps(step):
    chosen = credential()
    step("token", lambda: token_of(chosen.get_token(STORAGE)))
    service = BlobServiceClient(account_url=inp("BLOB_URL"), credential=chosen)
    container = service.get_container_client(inp("CONTAINER"))
    blob = container.get_blob_client("hello.txt")
    step("accountName", lambda: service.account_name)
    step("containerCreated", lambda: container.create_container() is not None)
    step("uploaded", lambda: blob.upload_blob(inp("CONTENT").encode("utf-8"))["etag"] is not None)
    step("listed", lambda: [b.name for b in container.list_blobs()])
    step("downloaded", lambda: blob.download_blob().readall().decode("utf-8"))
    step("deleted", lambda: blob.delete_blob())
    step("afterDelete", lambda: outcome_of(lambda: blob.get_blob_properties().name))
    step("containerDeleted", lambda: container.delete_container())


report(steps)
