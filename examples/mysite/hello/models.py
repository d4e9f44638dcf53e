"""A visit counter, so that serving the home page writes to SQLite (and proves Apache's user may)."""
from django.db import models


class Visit(models.Model):
    at = models.DateTimeField(auto_now_add=True)
