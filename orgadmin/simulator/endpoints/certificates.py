"""Certificate endpoints, at organization and project scope."""

from __future__ import annotations

from typing import Any

from cryptography import x509

from orgadmin.simulator.endpoints._common import emit
from orgadmin.simulator.errors import ApiError, conflict, invalid
from orgadmin.simulator.paging import list_a, window
from orgadmin.simulator.params import AFTER, LIMIT_1_100, ORDER_DESC, q_array
from orgadmin.simulator.routing import Ctx, obj, route, s_array, s_str
from orgadmin.simulator.store import Certificate, Project

MAX_CERTIFICATES = 50
LIST_QUERY = (LIMIT_1_100, AFTER, ORDER_DESC)
TOGGLE_BODY = obj({"certificate_ids": s_array(s_str(), minItems=1, maxItems=10)})


def _key(cert: Certificate) -> tuple[int, str]:
    return (cert.created_at, cert.id)


def parse_pem(pem: str) -> tuple[int, int]:
    """The validity window of a PEM certificate; a 400 if it is not one."""
    try:
        cert = x509.load_pem_x509_certificate(pem.encode())
    except ValueError as exc:
        raise invalid(
            "certificate", "Invalid 'certificate': not a PEM-encoded X.509 certificate."
        ) from exc
    return int(cert.not_valid_before_utc.timestamp()), int(cert.not_valid_after_utc.timestamp())


def certificate_api(cert: Certificate, *, content: bool = False) -> dict[str, Any]:
    """A `certificate` as created, fetched or renamed (no `active`: the spec leaves it out)."""
    details: dict[str, Any] = {"valid_at": cert.valid_at, "expires_at": cert.expires_at}
    if content:
        details["content"] = cert.pem
    return {
        "object": "certificate",
        "id": cert.id,
        "name": cert.name,
        "created_at": cert.created_at,
        "certificate_details": details,
    }


def _listed(cert: Certificate, scope: str, active: bool) -> dict[str, Any]:
    return {
        "object": scope,
        "id": cert.id,
        "name": cert.name,
        "created_at": cert.created_at,
        "certificate_details": {"valid_at": cert.valid_at, "expires_at": cert.expires_at},
        "active": active,
    }


def _list(ctx: Ctx, scope: str, active: Any) -> dict[str, Any]:
    store, q = ctx.store, ctx.query
    descending = q["order"] == "desc"
    certs = sorted(store.certificates.values(), key=_key, reverse=descending)

    def cursor(object_id: str) -> tuple[Any, ...] | None:
        found = store.certificates.get(object_id)
        return _key(found) if found else store.retired.get(object_id)

    page, more = window(
        certs,
        sort_key=_key,
        cursor_key=cursor,
        limit=q["limit"],
        after=q["after"],
        descending=descending,
    )
    return list_a([_listed(c, scope, active(c)) for c in page], more)


def _named(cert: Certificate) -> dict[str, Any]:
    """A certificate in an audit payload: the spec types `name` a string, so a certificate
    uploaded without one leaves it out rather than sending null."""
    return {"id": cert.id} if cert.name is None else {"id": cert.id, "name": cert.name}


def _toggle_targets(ctx: Ctx) -> list[Certificate]:
    """The certificates named in the body; all must exist (activation is atomic)."""
    ids = list(dict.fromkeys(ctx.body["certificate_ids"]))
    missing = [i for i in ids if i not in ctx.store.certificates]
    if missing:
        raise ApiError(
            404, f"No such certificate: '{missing[0]}'.", param="certificate_ids", code="not_found"
        )
    return [ctx.store.certificates[i] for i in ids]


@route("GET", "/organization/certificates", "listOrganizationCertificates", query=LIST_QUERY)
def certificates_list(ctx: Ctx) -> dict[str, Any]:
    return _list(ctx, "organization.certificate", lambda c: c.active)


@route(
    "POST",
    "/organization/certificates",
    "uploadCertificate",
    body=obj({"certificate": s_str()}, {"name": s_str()}),
)
def certificates_upload(ctx: Ctx) -> dict[str, Any]:
    store = ctx.store
    if len(store.certificates) >= MAX_CERTIFICATES:
        raise conflict(f"An organization can upload at most {MAX_CERTIFICATES} certificates.")
    pem = ctx.body["certificate"].replace("\\n", "\n")
    valid_at, expires_at = parse_pem(pem)
    cert = Certificate(
        id=store.new_id("cert_"),
        name=ctx.body.get("name"),
        created_at=ctx.now,
        pem=pem,
        valid_at=valid_at,
        expires_at=expires_at,
    )
    store.certificates[cert.id] = cert
    emit(ctx, "certificate.created", _named(cert))
    return certificate_api(cert)


@route(
    "POST",
    "/organization/certificates/activate",
    "activateOrganizationCertificates",
    body=TOGGLE_BODY,
)
def certificates_activate(ctx: Ctx) -> dict[str, Any]:
    targets = _toggle_targets(ctx)
    for cert in targets:
        cert.active = True
    emit(
        ctx,
        "certificates.activated",
        {"certificates": [_named(c) for c in targets]},
    )
    return {
        "object": "organization.certificate.activation",
        "data": [_listed(c, "organization.certificate", c.active) for c in targets],
    }


@route(
    "POST",
    "/organization/certificates/deactivate",
    "deactivateOrganizationCertificates",
    body=TOGGLE_BODY,
)
def certificates_deactivate(ctx: Ctx) -> dict[str, Any]:
    targets = _toggle_targets(ctx)
    for cert in targets:
        cert.active = False
    emit(
        ctx,
        "certificates.deactivated",
        {"certificates": [_named(c) for c in targets]},
    )
    return {
        "object": "organization.certificate.deactivation",
        "data": [_listed(c, "organization.certificate", c.active) for c in targets],
    }


@route(
    "GET",
    "/organization/certificates/{certificate_id}",
    "getCertificate",
    query=(q_array("include", enum=("content",)),),
)
def certificates_get(ctx: Ctx) -> dict[str, Any]:
    cert = ctx.store.get_certificate(ctx.path["certificate_id"])
    return certificate_api(cert, content="content" in (ctx.query["include"] or ()))


@route(
    "POST",
    "/organization/certificates/{certificate_id}",
    "modifyCertificate",
    body=obj(optional={"name": s_str()}),
)
def certificates_modify(ctx: Ctx) -> dict[str, Any]:
    cert = ctx.store.get_certificate(ctx.path["certificate_id"])
    if "name" in ctx.body and ctx.body["name"] != cert.name:
        cert.name = ctx.body["name"]
        emit(ctx, "certificate.updated", _named(cert))
    return certificate_api(cert)


@route("DELETE", "/organization/certificates/{certificate_id}", "deleteCertificate")
def certificates_delete(ctx: Ctx) -> dict[str, Any]:
    store = ctx.store
    cert = store.get_certificate(ctx.path["certificate_id"])
    active_in = [p.id for p in store.projects.values() if cert.id in p.active_certificates]
    if cert.active or active_in:
        where = "the organization" if cert.active else f"project '{active_in[0]}'"
        raise conflict(
            f"Certificate '{cert.id}' is active for {where}; deactivate it everywhere first.",
            param="certificate_id",
        )
    del store.certificates[cert.id]
    store.retire(cert.id, _key(cert))
    emit(ctx, "certificate.deleted", {**_named(cert), "certificate": cert.pem})
    return {"object": "certificate.deleted", "id": cert.id}


# --- project scope -----------------------------------------------------------------------------


def _project(ctx: Ctx) -> Project:
    return ctx.store.get_project(ctx.path["project_id"])


@route(
    "GET",
    "/organization/projects/{project_id}/certificates",
    "listProjectCertificates",
    query=LIST_QUERY,
)
def project_certificates_list(ctx: Ctx) -> dict[str, Any]:
    project = _project(ctx)
    return _list(
        ctx, "organization.project.certificate", lambda c: c.id in project.active_certificates
    )


def _toggle_project(ctx: Ctx, active: bool) -> dict[str, Any]:
    project = _project(ctx)
    if project.archived_at is not None:
        raise conflict(f"Project '{project.id}' is archived and cannot be updated.")
    targets = _toggle_targets(ctx)
    for cert in targets:
        if active:
            project.active_certificates.add(cert.id)
        else:
            project.active_certificates.discard(cert.id)
    kind = "activated" if active else "deactivated"
    emit(
        ctx,
        f"certificates.{kind}",
        {"certificates": [_named(c) for c in targets]},
        project=project,
        resource_ids=tuple(c.id for c in targets),
    )
    return {
        "object": f"organization.project.certificate.{kind[:-2]}ion",
        "data": [
            _listed(c, "organization.project.certificate", c.id in project.active_certificates)
            for c in targets
        ],
    }


@route(
    "POST",
    "/organization/projects/{project_id}/certificates/activate",
    "activateProjectCertificates",
    body=TOGGLE_BODY,
)
def project_certificates_activate(ctx: Ctx) -> dict[str, Any]:
    return _toggle_project(ctx, True)


@route(
    "POST",
    "/organization/projects/{project_id}/certificates/deactivate",
    "deactivateProjectCertificates",
    body=TOGGLE_BODY,
)
def project_certificates_deactivate(ctx: Ctx) -> dict[str, Any]:
    return _toggle_project(ctx, False)
