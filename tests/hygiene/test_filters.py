"""The hygiene page's filter and its long sections: by kind and severity, a refused value named on
the page, the first findings of a long section then all of them, in a fixed number of queries."""

from __future__ import annotations

import re

from django.db import connection
from django.test.utils import CaptureQueriesContext

from orgadmin.hygiene.models import Finding, open_q
from orgadmin.hygiene.rules import Kind, Severity
from orgadmin.hygiene.selectors import PER_SECTION


def _listed(html: str, section: str | None = None) -> set[int]:
    """The findings a page lists (in one section when given)."""
    if section is not None:
        html = html.split(f'id="group-{section}"', 1)[1].split("</section>", 1)[0]
    return {int(pk) for pk in re.findall(r'<tr class="finding" id="finding-(\d+)"', html)}


def _open(org, **filters) -> set[int]:
    from django.utils import timezone

    rows = Finding.objects.filter(org=org, **filters).filter(open_q(timezone.now()))
    return set(rows.values_list("pk", flat=True))


def test_it_lists_only_the_kind_asked_for(hygienic, client_as, admin):
    c = client_as(admin)
    every = _listed(c.get("/hygiene/").content.decode())
    unused = _open(hygienic, kind=Kind.KEY_UNUSED)
    assert unused
    assert every > unused
    page = c.get("/hygiene/", {"kind": Kind.KEY_UNUSED}).content.decode()
    assert _listed(page) == unused
    assert '<option value="key_unused" selected>Key unused</option>' in page


def test_a_bad_kind_is_named_on_the_page_and_the_findings_still_listed(hygienic, client_as, admin):
    c = client_as(admin)
    page = c.get("/hygiene/", {"kind": "<script>", "show": "open"})
    assert page.status_code == 200
    text = page.content.decode()
    assert "Kind: Select a valid choice." in text
    assert "<script>" not in text.split("<main", 1)[1].split("</main>", 1)[0]
    assert _listed(text) == _open(hygienic)


def test_the_severity_counts_link_to_their_findings(hygienic, client_as, admin):
    c = client_as(admin)
    for severity in Severity:
        wanted = _open(hygienic, severity=severity.value)
        link = f'href="/hygiene/?severity={severity.value}"'
        page = c.get("/hygiene/").content.decode()
        assert (link in page) == bool(wanted)
        if wanted:
            assert (
                _listed(c.get("/hygiene/", {"severity": severity.value}).content.decode()) == wanted
            )


def _more_unused_keys(org, how_many: int) -> None:
    """`how_many` more "key unused" findings, copies of one the demo has."""
    model = Finding.objects.filter(org=org, kind=Kind.KEY_UNUSED).first()
    start = Finding.objects.filter(org=org).count()
    Finding.objects.bulk_create(
        Finding(
            org=org,
            kind=model.kind,
            subject=f"key_copy{start + i}",
            group=model.group,
            severity=model.severity,
            rank=model.rank,
            title=f"Copy {start + i} of {model.title}",
            evidence=model.evidence,
            fix=model.fix,
            first_seen=model.first_seen,
            last_seen=model.last_seen,
        )
        for i in range(how_many)
    )


def test_a_long_section_lists_its_first_findings_then_all_of_them(hygienic, client_as, admin):
    _more_unused_keys(hygienic, PER_SECTION)
    keys = _open(hygienic, group="Keys")
    c = client_as(admin)
    page = c.get("/hygiene/").content.decode()
    first = _listed(page, "keys")
    assert len(first) == PER_SECTION
    assert f"Show all {len(keys)}</a>" in page
    assert _listed(page, "members") == _open(hygienic, group="Members")  # short ones in full
    everything = c.get("/hygiene/", {"all": "Keys"}).content.decode()
    assert _listed(everything, "keys") == keys
    assert f"List only the first {PER_SECTION}" in everything


def test_the_page_takes_the_same_queries_however_many_findings(hygienic, client_as, admin):
    c = client_as(admin)
    counts = []
    for more in (PER_SECTION, 3 * PER_SECTION):
        _more_unused_keys(hygienic, more)
        for query in ({}, {"all": "Keys"}):
            c.get("/hygiene/", query)  # the session and the caches warm
            with CaptureQueriesContext(connection) as queries:
                assert c.get("/hygiene/", query).status_code == 200
            counts.append(len(queries))
    print(f"\nthe hygiene page: {counts} queries (first ones, all keys; then with more findings)")
    assert counts[:2] == counts[2:]
