"""Access review pages: the campaigns, starting one, a campaign (progress, revocations,
reminders, closing), a reviewer's items, and the evidence (HTML, PDF, CSV)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import trigger_client_event

from orgadmin.access import Perm, requires, signed_in
from orgadmin.accounts.stepup import step_up
from orgadmin.csv_export import csv_stream
from orgadmin.forms.fields import row_id
from orgadmin.reviews import evidence, reminders, revoke, selectors, services
from orgadmin.reviews.forms import CampaignForm, DecisionForm
from orgadmin.reviews.models import Campaign, Item
from orgadmin.views.common import download, first_error, fragment, try_change, with_org


def _campaign_or_404(request: HttpRequest, campaign_id: int) -> Campaign:
    campaign = selectors.campaign_of(org=request.org, campaign_id=campaign_id)
    if campaign is None:
        raise Http404("No such access review on this connection.")
    return campaign


def _reviewable_or_404(request: HttpRequest, campaign_id: int) -> tuple[Campaign, set | None]:
    """The campaign and the projects this person reviews in it (None: all, for an Admin of its
    connection); 404 for anyone else, so a campaign of another connection doesn't exist."""
    campaign = selectors.campaign_by_id(campaign_id=campaign_id)
    if campaign is None or not selectors.may_review(campaign=campaign, user=request.user):
        raise Http404("No such access review of yours.")
    mine = selectors.reviewer_project_ids(campaign=campaign, user=request.user)
    admin = request.user.has_perm(Perm.MANAGE, campaign.org)
    return campaign, (None if admin and not mine else mine)


@requires(Perm.VIEW_DIRECTORY)
@require_GET
@with_org
def reviews(request: HttpRequest) -> HttpResponse:
    campaigns = selectors.campaigns_of(org=request.org)
    can_manage = request.user.has_perm(Perm.MANAGE, request.org)
    return render(
        request, "reviews/campaigns.html", {"campaigns": campaigns, "can_manage": can_manage}
    )


def _start_page(request: HttpRequest, form: CampaignForm) -> HttpResponse:
    projects = selectors.active_projects(org=request.org)
    owners = selectors.project_owners(org=request.org, project_ids=[p.openai_id for p in projects])
    rows = [(p, owners.get(p.openai_id, [])) for p in projects]
    return render(request, "reviews/start.html", {"form": form, "project_owners": rows})


@requires(Perm.MANAGE)
@require_http_methods(["GET", "POST"])
@with_org
def review_start(request: HttpRequest) -> HttpResponse:
    form = CampaignForm(request.POST or None, org=request.org)
    if request.method != "POST" or not form.is_valid():
        return _start_page(request, form)
    data = form.cleaned_data
    campaign, _ = try_change(
        lambda: services.campaign_start(
            org=request.org,
            actor=request.user,
            name=data["name"],
            due_on=data["due_on"],
            project_ids=data["projects"] if data["scope"] == "chosen" else None,
            by_owner=data["reviewers"] == "owner",
            people=form.chosen_people,
            auto_revoke=data["auto_revoke"],
        ),
        doing="start the review",
        form=form,
    )
    if campaign is None:
        return _start_page(request, form)
    told = reminders.reminders_send(campaign=campaign).sent  # the first notice: "you're asked"
    messages.success(request, f"Started “{campaign.name}”; told {len(told)} reviewer(s).")
    return redirect("review_campaign", campaign_id=campaign.pk)


def _campaign_context(request: HttpRequest, campaign: Campaign) -> dict[str, Any]:
    return {
        "campaign": campaign,
        "reviewers": selectors.reviewer_progress(campaign=campaign),
        "revocations": selectors.revocations_of(campaign=campaign),
        "exceptions": selectors.exceptions_of(campaign=campaign),
        "can_manage": request.user.has_perm(Perm.MANAGE, request.org),
        "am_reviewer": bool(selectors.reviewer_project_ids(campaign=campaign, user=request.user)),
    }


@requires(Perm.VIEW_DIRECTORY)
@require_GET
def review_campaign(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = _campaign_or_404(request, campaign_id)
    return render(request, "reviews/campaign.html", _campaign_context(request, campaign))


def _items_page(
    request: HttpRequest, campaign: Campaign, mine: set | None, part: str = "", **extra: Any
) -> HttpResponse:
    items = selectors.items_for(campaign=campaign, project_ids=mine)
    context = {"campaign": campaign, "projects": selectors.by_project(items), **extra}
    context["undecided"] = sum(1 for i in items if not i.decision)
    return render(request, fragment(request, "reviews/review.html", part), context)


@signed_in
@require_GET
def review_items(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign, mine = _reviewable_or_404(request, campaign_id)
    return _items_page(request, campaign, mine, "review-summary")


def _decide(request: HttpRequest, item: Item, form: DecisionForm) -> tuple[Item, str | None]:
    """Record the decision the form holds: (the item as it is now, the refusal or None)."""
    error = first_error(form)
    if error is not None:
        return item, error
    data = form.cleaned_data
    if data["decision"] == Item.Decision.REVOKE and item.campaign.auto_revoke:
        step_up(request)  # the revocation goes to OpenAI at once: a dangerous write
    decided, error = try_change(
        lambda: services.decision_set(
            item=item, actor=request.user, decision=data["decision"], comment=data["comment"]
        ),
        doing="record the decision",
        form=form,
    )
    return decided or item, error


@signed_in
@require_POST
def review_decide(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign, mine = _reviewable_or_404(request, campaign_id)
    item = selectors.item_of(campaign=campaign, item_id=request.POST.get("item_id", ""))
    if item is None or (mine is not None and item.project_id not in mine):
        raise Http404("No such item of yours.")
    item, error = _decide(request, item, DecisionForm(request.POST))
    if not request.htmx:
        if error:
            messages.error(request, error)
        return redirect("review_items", campaign_id=campaign.pk)
    context = {"campaign": campaign, "item": item, "error": error}
    response = render(request, "reviews/_item.html", context)
    return response if error else trigger_client_event(response, "reviewDecided")


@signed_in
@require_POST
def review_keep_rest(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign, mine = _reviewable_or_404(request, campaign_id)
    count, error = try_change(
        lambda: services.keep_remaining(campaign=campaign, actor=request.user, project_ids=mine),
        doing="keep the rest",
    )
    if error:
        messages.error(request, error)
    else:
        messages.success(request, f"Kept the {count} remaining items.")
    return redirect("review_items", campaign_id=campaign.pk)


@requires(Perm.MANAGE)
@require_POST
def review_revoke(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = _campaign_or_404(request, campaign_id)
    step_up(request)  # after the 404: no "prove it's you" for a campaign that isn't there
    raw = request.POST.get("item_id", "")
    pk = row_id(raw)
    if raw and pk is None:
        raise Http404("No such item.")
    ids = None if pk is None else [pk]
    outcome = revoke.revocations_carry_out(campaign=campaign, actor=request.user, item_ids=ids)
    if outcome.done or outcome.gone:
        messages.success(
            request, f"Revoked {len(outcome.done)}; {len(outcome.gone)} were gone already."
        )
    for item in outcome.failed:
        messages.error(request, f"{item.label} in “{item.project_name}”: {item.revoke_error}")
    if not (outcome.done or outcome.gone or outcome.failed):
        messages.info(request, "Nothing to carry out: no revocation is waiting.")
    return redirect("review_campaign", campaign_id=campaign.pk)


@requires(Perm.MANAGE)
@require_POST
def review_remind(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = _campaign_or_404(request, campaign_id)
    outcome = reminders.reminders_send(campaign=campaign)
    if outcome.sent:
        messages.success(request, f"Reminded {', '.join(outcome.sent)}.")
    if outcome.already:
        messages.info(request, f"Already reminded today: {', '.join(outcome.already)}.")
    if not (outcome.sent or outcome.already):
        messages.info(request, "Nobody to remind: every reviewer has decided everything.")
    return redirect("review_campaign", campaign_id=campaign.pk)


@requires(Perm.MANAGE)
@require_POST
def review_close(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = _campaign_or_404(request, campaign_id)
    _closed, error = try_change(
        lambda: services.campaign_close(campaign=campaign, actor=request.user), doing="close"
    )
    if error:
        messages.error(request, error)
    else:
        messages.success(request, f"Closed “{campaign.name}”: its evidence report is ready.")
    return redirect("review_campaign", campaign_id=campaign.pk)


def _evidence_html(request: HttpRequest, campaign: Campaign, frame: str) -> str:
    context = {"e": evidence.evidence_of(campaign=campaign), "frame": frame}
    return render_to_string("reviews/evidence.html", context, request=request)


@requires(Perm.VIEW_DIRECTORY)
@require_GET
def review_evidence(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = _campaign_or_404(request, campaign_id)
    return HttpResponse(_evidence_html(request, campaign, "base.html"))


@requires(Perm.VIEW_DIRECTORY)
@require_GET
def review_evidence_pdf(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = _campaign_or_404(request, campaign_id)
    pdf = evidence.evidence_pdf(_evidence_html(request, campaign, "reviews/_document.html"))
    if pdf is None:
        context = {"campaign": campaign, "reason": evidence.PANGO_MISSING}
        return render(request, "reviews/pdf_unavailable.html", context, status=503)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="access-review-{campaign.pk}.pdf"'
    return response


@requires(Perm.VIEW_DIRECTORY)
@require_GET
def review_evidence_csv(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = _campaign_or_404(request, campaign_id)
    lines = csv_stream(evidence.CSV_COLUMNS, evidence.csv_rows(campaign=campaign))
    filename = f"access-review-{campaign.pk}-{dt.datetime.now(dt.UTC):%Y-%m-%d}.csv"
    return download(lines, filename=filename, content_type="text/csv; charset=utf-8")
