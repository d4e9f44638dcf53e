"""The guestbook page (a form that writes an entry) and the entries as JSON, with how mod_wsgi serves them."""
import os

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import redirect, render

from .forms import EntryForm
from .models import Entry


def index(request):
    form = EntryForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        form.save()
        return redirect("index")
    return render(
        request,
        "guestbook/index.html",
        {"form": form, "entries": Entry.objects.all()[:50], "greeting": settings.GUESTBOOK_GREETING},
    )


def entries_json(request):
    process_group = request.META.get("mod_wsgi.process_group")
    return JsonResponse(
        {
            "entries": [{"name": e.name, "message": e.message} for e in Entry.objects.all()],
            "mode": "not mod_wsgi" if process_group is None else "embedded" if process_group == "" else "daemon",
            "process_group": process_group,
            "pid": os.getpid(),
            "uid": os.getuid(),
            "debug": settings.DEBUG,
            "settings": os.environ.get("DJANGO_SETTINGS_MODULE"),
            "database": str(settings.DATABASES["default"]["NAME"]),
        }
    )
