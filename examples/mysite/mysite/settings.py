"""Development settings for mysite; in production the playbook's generated settings_production.py (beside manage.py) imports them and overrides what differs.

Works on Django 3.2 (Debian 12's python3-django) and newer.
"""
import os

BASE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# For development only: production reads its key from a file on the host (see the generated settings_production.py).
SECRET_KEY = "django-insecure-development-only-key-do-not-use-in-production"

DEBUG = True

# Empty is fine while DEBUG is on (Django then allows localhost); production must list its names.
ALLOWED_HOSTS = []

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.staticfiles",
    "hello",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "mysite.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    },
]

# runserver finds the application here; Apache finds it through WSGIScriptAlias.
WSGI_APPLICATION = "mysite.wsgi.application"

# The SQLite file lives in its own directory: the web server's user must be able to write both the file
# and the directory (SQLite creates its journal beside the file).
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.path.join(BASE_DIR, "db", "db.sqlite3"),
    }
}

DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [os.path.join(BASE_DIR, "static")]
# collectstatic copies every static file here; Apache serves it at /static/.
STATIC_ROOT = os.path.join(BASE_DIR, "www_static")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "{asctime} {levelname} {process} {name}: {message}", "style": "{"},
    },
    "handlers": {
        "logfile": {
            "class": "logging.FileHandler",
            "filename": os.path.join(BASE_DIR, "logs", "logfile"),
            "formatter": "plain",
        },
    },
    "loggers": {
        "django": {"handlers": ["logfile"], "level": "WARNING"},
        "hello": {"handlers": ["logfile"], "level": "INFO"},
    },
}
