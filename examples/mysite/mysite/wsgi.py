"""The WSGI entry point of mysite (Django's startproject layout; WSGI_APPLICATION names it).

Under Apache the playbook's generated wsgi_production.py selects the production settings and serves this
callable; runserver and manage.py use mysite.settings.
"""
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")

application = get_wsgi_application()
