"""The one app of mysite: a home page that counts its visits, and the mod_wsgi report."""
from django.apps import AppConfig


class HelloConfig(AppConfig):
    name = "hello"
    default_auto_field = "django.db.models.AutoField"
