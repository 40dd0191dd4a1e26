from __future__ import annotations

from django.urls import path

from orgadmin.reviews import views

urlpatterns = [
    path("", views.reviews, name="reviews"),
    path("start/", views.review_start, name="review_start"),
    path("<int:campaign_id>/", views.review_campaign, name="review_campaign"),
    path("<int:campaign_id>/review/", views.review_items, name="review_items"),
    path("<int:campaign_id>/review/decide/", views.review_decide, name="review_decide"),
    path("<int:campaign_id>/review/keep-rest/", views.review_keep_rest, name="review_keep_rest"),
    path("<int:campaign_id>/revoke/", views.review_revoke, name="review_revoke"),
    path("<int:campaign_id>/remind/", views.review_remind, name="review_remind"),
    path("<int:campaign_id>/close/", views.review_close, name="review_close"),
    path("<int:campaign_id>/evidence/", views.review_evidence, name="review_evidence"),
    path("<int:campaign_id>/evidence.pdf", views.review_evidence_pdf, name="review_evidence_pdf"),
    path("<int:campaign_id>/evidence.csv", views.review_evidence_csv, name="review_evidence_csv"),
]
