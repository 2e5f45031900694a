# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""The cluster's Compute Engine instances, found with google-cloud-compute.

``instances.aggregatedList`` over the project, filtered by the label ``constellation-uid`` (the filter form
Constellation's own node operator uses), the role and node group from the labels ``constellation-role`` and
``constellation-node-group``. Clusters of CLI v2.0 and v2.1 carried the uid and role as instance metadata, not
labels: when no instance has the label, the instances are listed again and matched by their metadata.
Rate limiting (429) and unavailability (503) are retried by google-api-core's Retry (exponential backoff with
jitter), within ``retry_seconds``.
"""

from __future__ import annotations

from ._discovery import DiscoveryError, Instance, require_instances, role_from

try:
    import google.auth
    import google.auth.exceptions
    from google.api_core import exceptions as api_exceptions
    from google.api_core import retry as api_retry
    from google.api_core.client_options import ClientOptions
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import compute_v1
    from google.oauth2 import service_account

    HAS_GOOGLE = True
    GOOGLE_IMPORT_ERROR = None
except ImportError as _exc:  # pragma: no cover - exercised only without the dependency
    HAS_GOOGLE = False
    GOOGLE_IMPORT_ERROR = _exc

SCOPES = ["https://www.googleapis.com/auth/compute.readonly"]
WRITE_SCOPES = ["https://www.googleapis.com/auth/compute"]  # a drill's instances.reset
AUTH_KINDS = ("application", "serviceaccount", "anonymous")


def credentials(
    auth_kind: str,
    service_account_file: str | None = None,
    api_endpoint: str | None = None,
    scopes: list[str] | None = None,
):
    scopes = scopes or SCOPES
    if not HAS_GOOGLE:
        raise DiscoveryError(
            f"the gcp provider needs google-cloud-compute (pip install google-cloud-compute): {GOOGLE_IMPORT_ERROR}"
        )
    if auth_kind == "anonymous":
        if not api_endpoint:
            raise DiscoveryError("auth_kind anonymous is only for a Compute API double: give api_endpoint too")
        return AnonymousCredentials()
    if auth_kind == "serviceaccount":
        if not service_account_file:
            raise DiscoveryError("auth_kind serviceaccount needs service_account_file (or GCP_SERVICE_ACCOUNT_FILE)")
        try:
            return service_account.Credentials.from_service_account_file(service_account_file, scopes=scopes)
        except (OSError, ValueError) as exc:
            raise DiscoveryError(f"cannot read the service account file {service_account_file}: {exc}") from exc
    try:
        found, _project = google.auth.default(scopes=scopes)
    except google.auth.exceptions.DefaultCredentialsError as exc:
        raise DiscoveryError(
            "no GCP credentials: run `gcloud auth application-default login`, set "
            "GOOGLE_APPLICATION_CREDENTIALS, or use auth_kind serviceaccount with "
            f"service_account_file ({exc})"
        ) from exc
    return found


def client(creds, api_endpoint: str | None = None):
    options = ClientOptions(api_endpoint=api_endpoint) if api_endpoint else None
    return compute_v1.InstancesClient(credentials=creds, client_options=options)


def client_for(locator: dict, scopes: list[str] | None = None):
    """The Compute client for one instance's locator (the inventory's constellation_boot_log): how discovery reached it."""
    endpoint = locator.get("api_endpoint")
    return client(
        credentials(locator.get("auth_kind") or "application", locator.get("service_account_file"), endpoint, scopes),
        endpoint,
    )


def retry_policy(seconds: float):
    return api_retry.Retry(
        predicate=api_retry.if_exception_type(api_exceptions.TooManyRequests, api_exceptions.ServiceUnavailable),
        initial=0.5,
        maximum=8.0,
        multiplier=2.0,
        timeout=seconds,
    )


def explain(exc, project: str, action: str = "", permission: str = "compute.instances.list") -> DiscoveryError:
    action = action or f"listing the instances of project {project}"
    if isinstance(exc, (api_exceptions.Forbidden, api_exceptions.PermissionDenied)):
        return DiscoveryError(
            f"GCP denied {action}: {exc.message}. The identity needs {permission} (and "
            "compute.instances.getSerialPortOutput for the boot logs)"
        )
    if isinstance(exc, (api_exceptions.Unauthorized, api_exceptions.Unauthenticated)):
        return DiscoveryError(f"GCP did not accept the credentials for {action}: {exc.message}")
    if isinstance(exc, api_exceptions.NotFound):
        return DiscoveryError(f"GCP found nothing for {action}: {exc.message}")
    if isinstance(exc, api_exceptions.RetryError):
        return DiscoveryError(f"GCP kept throttling {action}: {exc}")
    return DiscoveryError(f"GCP failed {action}: {exc}")


def _metadata(raw) -> dict:
    return {item.key: item.value for item in raw.metadata.items} if raw.metadata else {}


def _instance(raw, project: str, role: str | None, node_group: str) -> Instance | None:
    if role is None:
        return None
    zone = raw.zone.rsplit("/", 1)[-1]
    interfaces = list(raw.network_interfaces)
    nic0 = next((nic for nic in interfaces if nic.name == "nic0"), interfaces[0] if interfaces else None)
    return Instance(
        name=raw.name,
        role=role,
        private_ip=(nic0.network_i_p if nic0 else None) or None,
        node_group=node_group,
        status=raw.status,
        cloud={
            "provider": "gcp",
            "project": project,
            "zone": zone,
            "instance": raw.name,
            "provider_id": f"gce://{project}/{zone}/{raw.name}",
        },
        boot_log={
            "source": "gcp-serial-port",
            "project": project,
            "zone": zone,
            "instance": raw.name,
            "instance_id": str(raw.id) if raw.id else "",
        },
    )


def _listed(compute, project: str, expression: str, retry_seconds: float):
    request = compute_v1.AggregatedListInstancesRequest(project=project, filter=expression)
    for _scope, scoped in compute.aggregated_list(request=request, retry=retry_policy(retry_seconds)):
        yield from scoped.instances


def instances(compute, project: str, uid: str, retry_seconds: float = 60.0) -> list[Instance]:
    found = []
    try:
        for raw in _listed(compute, project, f"labels.constellation-uid:{uid}", retry_seconds):
            labels = dict(raw.labels)
            found.append(
                _instance(
                    raw,
                    project,
                    role_from(labels.get("constellation-role")),
                    labels.get("constellation-node-group", ""),
                )
            )
        if not found:  # CLI v2.0 and v2.1: uid and role in the instance metadata
            for raw in _listed(compute, project, "", retry_seconds):
                metadata = _metadata(raw)
                if metadata.get("constellation-uid") == uid:
                    found.append(_instance(raw, project, role_from(metadata.get("constellation-role")), ""))
    except (api_exceptions.GoogleAPICallError, api_exceptions.RetryError) as exc:
        raise explain(exc, project) from exc
    except google.auth.exceptions.GoogleAuthError as exc:
        raise DiscoveryError(f"GCP credentials failed for project {project}: {exc}") from exc
    found = [instance for instance in found if instance is not None]
    return require_instances(sorted(found, key=lambda i: (i.role, i.name)), uid, f"GCP project {project}")
