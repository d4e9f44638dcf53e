"""The home page, and /wsgi/: how mod_wsgi serves this request (daemon or embedded mode, which process)."""
import logging
import os

import django
from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render

from .models import Visit

logger = logging.getLogger(__name__)


def index(request):
    Visit.objects.create()
    visits = Visit.objects.count()
    logger.info("home page served (visit %d, pid %d)", visits, os.getpid())
    return render(request, "hello/index.html", {"visits": visits, "django_version": django.get_version()})


def wsgi_info(request):
    # mod_wsgi puts these in the WSGI environ; process_group is '' in embedded mode and the
    # WSGIDaemonProcess name in daemon mode. Under runserver they are absent.
    process_group = request.META.get("mod_wsgi.process_group")
    if process_group is None:
        mode = "not mod_wsgi"
    elif process_group == "":
        mode = "embedded"
    else:
        mode = "daemon"
    return JsonResponse(
        {
            "mode": mode,
            "process_group": process_group,
            "application_group": request.META.get("mod_wsgi.application_group"),
            "pid": os.getpid(),
            "debug": settings.DEBUG,
            "settings": os.environ.get("DJANGO_SETTINGS_MODULE"),
            "django": django.get_version(),
        }
    )
