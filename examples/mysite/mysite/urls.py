"""URL routes: the home page and the page that reports how mod_wsgi serves the request."""
from django.urls import path

from hello import views

urlpatterns = [
    path("", views.index, name="index"),
    path("wsgi/", views.wsgi_info, name="wsgi-info"),
]
