# Child process of python-sdks.test.ts: the management SDKs (azure-mgmt-resource, -msi,
# -authorization, -compute) on Tessera's ARM over HTTPS as the administrator, signed in with
# azure-identity's ClientSecretCredential at Tessera's token endpoint. Each client gets only
# `base_url`; the token scope is the SDKs' default.
#
# Inputs: REQUESTS_CA_BUNDLE (Tessera's CA), TESSERA_COMPAT_{URL,TENANT_ID,CLIENT_ID,SECRET_FILE,
# SUBSCRIPTION_ID} (the administrator at Tessera's HTTPS URL), TESSERA_COMPAT_GROUP (a group to
# create and delete), TESSERA_COMPAT_VM_GROUP and TESSERA_COMPAT_VM (a VM with identities),
# TESSERA_COMPAT_READER_ROLE_ID (the built-in Reader's GUID).
import uuid

from azure.identity import ClientSecretCredential
from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.compute import ComputeManagementClient
from azure.mgmt.msi import ManagedServiceIdentityClient
from azure.mgmt.resource import ResourceManagementClient

from compat_kit import inp, outcome_of, report


class RecordingCredential:
    """The credential as is, noting each token the clients asked it for, and their scopes."""

    def __init__(self, credential):
        self._credential = credential
        self.asked = []

    def get_token(self, *scopes, **kwargs):
        token = self._credential.get_token(*scopes, **kwargs)
        self.asked.append({"scopes": list(scopes), "token": token.token})
        return token


def steps(step):
    with open(inp("SECRET_FILE"), encoding="utf-8") as file:
        secret = file.read().strip()
    url = inp("URL")
    subscription = inp("SUBSCRIPTION_ID")
    group = inp("GROUP")
    credential = RecordingCredential(
        # 1.13's ClientSecretCredential is MSAL's ConfidentialClientApplication on
        # `{authority}/{tenant}` (HTTPS only); without instance_discovery=False MSAL first asks
        # login.microsoftonline.com about a host it does not know.
        ClientSecretCredential(
            inp("TENANT_ID"), inp("CLIENT_ID"), secret, authority=url, instance_discovery=False
        )
    )
    resources = ResourceManagementClient(credential, subscription, base_url=url)
    msi = ManagedServiceIdentityClient(credential, subscription, base_url=url)
    authorization = AuthorizationManagementClient(credential, subscription, base_url=url)
    compute = ComputeManagementClient(credential, subscription, base_url=url)

    step(
        "groupCreated",
        lambda: resources.resource_groups.create_or_update(
            group, {"location": "westeurope", "tags": {"suite": "python"}}
        ).as_dict(),
    )
    step("groups", lambda: [g.name for g in resources.resource_groups.list()])
    step(
        "identityCreated",
        lambda: msi.user_assigned_identities.create_or_update(
            group, "py-uai", {"location": "westeurope", "tags": {"a": "b"}}
        ).as_dict(),
    )
    identity = step("identity", lambda: msi.user_assigned_identities.get(group, "py-uai").as_dict())
    step(
        "identitiesInGroup",
        lambda: [i.id for i in msi.user_assigned_identities.list_by_resource_group(group)],
    )
    step(
        "identitiesInSubscription",
        lambda: [i.id for i in msi.user_assigned_identities.list_by_subscription()],
    )
    step(
        "resourcesInGroup",
        lambda: [
            {"id": r.id, "type": r.type} for r in resources.resources.list_by_resource_group(group)
        ],
    )
    step("resources", lambda: [{"id": r.id, "type": r.type} for r in resources.resources.list()])

    group_scope = f"/subscriptions/{subscription}/resourceGroups/{group}"
    reader = (
        f"/subscriptions/{subscription}/providers/Microsoft.Authorization/roleDefinitions/"
        + inp("READER_ROLE_ID")
    )
    assignment_name = str(uuid.uuid4())
    step(
        "assignmentCreated",
        lambda: authorization.role_assignments.create(
            group_scope,
            assignment_name,
            {
                "role_definition_id": reader,
                "principal_id": identity["principal_id"],
                "principal_type": "ServicePrincipal",
            },
        ).as_dict(),
    )
    step(
        "assignmentsInGroup",
        lambda: [
            a.as_dict() for a in authorization.role_assignments.list_for_resource_group(group)
        ],
    )
    step(
        "assignment",
        lambda: authorization.role_assignments.get(group_scope, assignment_name).as_dict(),
    )
    step(
        "assignmentDeleted",
        lambda: authorization.role_assignments.delete(group_scope, assignment_name).as_dict(),
    )
    step(
        "assignmentsAfterDelete",
        lambda: [
            a.name
            for a in authorization.role_assignments.list_for_scope(
                group_scope, filter="atScope()"
            )
        ],
    )

    step(
        "vm",
        lambda: compute.virtual_machines.get(inp("VM_GROUP"), inp("VM")).as_dict(),
    )

    step(
        "identityDeleted",
        lambda: msi.user_assigned_identities.delete(group, "py-uai"),
    )
    step(
        "identityAfterDelete",
        lambda: outcome_of(lambda: msi.user_assigned_identities.get(group, "py-uai").as_dict()),
    )
    step("groupDeleted", lambda: resources.resource_groups.begin_delete(group).result())
    step("groupExists", lambda: resources.resource_groups.check_existence(group))
    step("asked", lambda: credential.asked)


report(steps)
