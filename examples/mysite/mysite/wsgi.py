"""The WSGI entry point Apache's mod_wsgi loads (WSGIScriptAlias); the callable must be named `application`.

Under Apache the site runs with the production settings, which the playbook writes beside this file
(mysite/settings_production.py, kept out of the source tree). runserver and manage.py use mysite.settings.
Touching this file makes mod_wsgi's daemon processes reload the application (daemon mode only).
"""
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings_production")

application = get_wsgi_application()
