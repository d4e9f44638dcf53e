"""URL routes of the guestbook."""
from django.urls import path

from guestbook import views

urlpatterns = [
    path("", views.index, name="index"),
    path("entries.json", views.entries_json, name="entries-json"),
]
