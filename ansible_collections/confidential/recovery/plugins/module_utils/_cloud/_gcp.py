# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""The cluster's Compute Engine instances, found through the Compute Engine REST API (compute/v1, JSON).

``instances.aggregatedList`` over the project, filtered by the label ``constellation-uid`` (the filter form
Constellation's own node operator uses), the role and node group from the labels ``constellation-role`` and
``constellation-node-group``. Clusters of CLI v2.0 and v2.1 carried the uid and role as instance metadata, not
labels: when no instance has the label, the instances are listed again and matched by their metadata.
Rate limiting (429) and unavailability (503) are retried by google-api-core's Retry (exponential backoff with
jitter), within ``retry_seconds``.

The calls go through google-auth's AuthorizedSession, the transport google-cloud-compute itself uses; the client
library is not imported because importing it loads all of its 100-odd service clients (1.9 s of every
ansible-playbook start, against 0.3 s for google-auth and google-api-core). Its HTTP errors become the same
google-api-core exceptions (``from_http_response``).
"""

from __future__ import annotations

import time

from ._discovery import DiscoveryError, Instance, require_instances, role_from

try:
    import google.auth
    import google.auth.exceptions
    import requests
    from google.api_core import exceptions as api_exceptions
    from google.api_core import retry as api_retry
    from google.auth.credentials import AnonymousCredentials
    from google.auth.transport.requests import AuthorizedSession
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
            f"the gcp provider needs google-auth and google-api-core (pip install google-api-core): {GOOGLE_IMPORT_ERROR}"
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


COMPUTE_ENDPOINT = "https://compute.googleapis.com"


class Compute:
    """The Compute Engine calls of discovery, the boot log, attestation and a drill: aggregatedList,
    getSerialPortOutput, getShieldedInstanceIdentity, reset and zoneOperations.get, each answer a JSON object."""

    def __init__(self, creds, api_endpoint: str | None = None):
        self.session = AuthorizedSession(creds)
        self.base = f"{(api_endpoint or COMPUTE_ENDPOINT).rstrip('/')}/compute/v1/projects"

    def call(self, method: str, path: str, params: dict | None = None, timeout: float = 60.0, retry_seconds=None):
        url = f"{self.base}/{path}"

        def once() -> dict:
            try:
                response = self.session.request(method, url, params=params, timeout=timeout)
            except requests.exceptions.RequestException as exc:
                raise DiscoveryError(f"cannot reach the Compute Engine API at {url}: {exc}") from exc
            if response.status_code >= 400:
                raise api_exceptions.from_http_response(response)
            try:
                body = response.json()
            except ValueError:
                body = None
            if not isinstance(body, dict):
                raise api_exceptions.GoogleAPICallError(f"{method} {url} answered HTTP 200 without a JSON object")
            return body

        return retry_policy(retry_seconds or timeout)(once)()

    def aggregated_instances(self, project: str, expression: str, retry_seconds: float):
        """Every instance of the project that matches the filter, page by page."""
        params = {"filter": expression} if expression else {}
        for _page in range(MAX_PAGES):
            body = self.call("GET", f"{project}/aggregated/instances", params, retry_seconds=retry_seconds)
            for scoped in _object(body.get("items"), "items").values():
                for instance in _list(_object(scoped, "a zone's entry").get("instances"), "instances"):
                    yield _object(instance, "instance")
            token = body.get("nextPageToken")
            if not token:
                return
            params = dict(params, pageToken=str(token))
        raise DiscoveryError(f"the instance list of project {project} did not end within {MAX_PAGES} pages")

    def serial_port_output(self, project: str, zone: str, instance: str, start: int, timeout: float) -> dict:
        path = f"{project}/zones/{zone}/instances/{instance}/serialPort"
        return self.call("GET", path, {"port": 1, "start": start}, timeout=timeout)

    def shielded_instance_identity(self, project: str, zone: str, instance: str, timeout: float) -> dict:
        """instances.getShieldedInstanceIdentity: the instance's vTPM keys as Compute Engine holds them."""
        return self.call(
            "GET", f"{project}/zones/{zone}/instances/{instance}/getShieldedInstanceIdentity", timeout=timeout
        )

    def reset(self, project: str, zone: str, instance: str, timeout: float) -> dict:
        """Reset the instance and wait for the zone operation to finish (its error raised as GCP's)."""
        operation = self.call("POST", f"{project}/zones/{zone}/instances/{instance}/reset", timeout=timeout)
        deadline = time.monotonic() + timeout
        while operation.get("status") != "DONE":
            if time.monotonic() >= deadline:
                raise api_exceptions.DeadlineExceeded(f"the reset of {instance} did not finish within {timeout:g} s")
            time.sleep(1)
            operation = self.call("GET", f"{project}/zones/{zone}/operations/{operation.get('name')}", timeout=timeout)
        errors = _object(operation.get("error"), "error").get("errors")
        if errors:
            raise api_exceptions.GoogleAPICallError(f"the reset of {instance} failed: {errors}")
        return operation


MAX_PAGES = 1000  # 500 instances a page: a bound no real project reaches


def _object(value, what: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise api_exceptions.GoogleAPICallError(f"the Compute Engine API answered a malformed {what}")
    return value


def _list(value, what: str) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise api_exceptions.GoogleAPICallError(f"the Compute Engine API answered malformed {what}")
    return value


def client(creds, api_endpoint: str | None = None) -> Compute:
    return Compute(creds, api_endpoint)


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


def _text(raw: dict, key: str) -> str:
    value = raw.get(key)
    return value if isinstance(value, str) else ""


def _metadata(raw: dict) -> dict:
    items = _list(_object(raw.get("metadata"), "metadata").get("items"), "metadata items")
    return {item["key"]: item.get("value") for item in items if isinstance(item, dict) and "key" in item}


def _labels(raw: dict) -> dict:
    return _object(raw.get("labels"), "labels")


def _instance(raw, project: str, role: str | None, node_group: str) -> Instance | None:
    if role is None:
        return None
    if not isinstance(raw, dict) or not _text(raw, "name"):
        raise api_exceptions.GoogleAPICallError("the Compute Engine API answered an instance without a name")
    name = _text(raw, "name")
    zone = _text(raw, "zone").rsplit("/", 1)[-1]
    interfaces = [nic for nic in _list(raw.get("networkInterfaces"), "network interfaces") if isinstance(nic, dict)]
    nic0 = next((nic for nic in interfaces if nic.get("name") == "nic0"), interfaces[0] if interfaces else None)
    return Instance(
        name=name,
        role=role,
        private_ip=(_text(nic0, "networkIP") if nic0 else None) or None,
        node_group=node_group,
        status=_text(raw, "status"),
        cloud={
            "provider": "gcp",
            "project": project,
            "zone": zone,
            "instance": name,
            "provider_id": f"gce://{project}/{zone}/{name}",
        },
        boot_log={
            "source": "gcp-serial-port",
            "project": project,
            "zone": zone,
            "instance": name,
            "instance_id": str(raw.get("id") or ""),
        },
    )


def _listed(compute: Compute, project: str, expression: str, retry_seconds: float):
    yield from compute.aggregated_instances(project, expression, retry_seconds)


def instances(compute, project: str, uid: str, retry_seconds: float = 60.0) -> list[Instance]:
    found = []
    try:
        for raw in _listed(compute, project, f"labels.constellation-uid:{uid}", retry_seconds):
            labels = _labels(raw)
            found.append(
                _instance(
                    raw,
                    project,
                    role_from(labels.get("constellation-role")),
                    str(labels.get("constellation-node-group") or ""),
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
