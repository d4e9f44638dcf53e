#!/bin/sh
# The benchmark's floor: bench/workload.ts's work as a hand-written idempotent script, one `ssh` call per host.
# Run: ssh root@HOST "ROOT=/deploy/root SERVER_NAME=HOST.bench.test sh -s" < bench/floor.sh
# Prints `changed=N` last (N = 0 on a converged host), like the playbook's recap.
set -eu
: "${ROOT:?ROOT must name the deploy root}"
: "${SERVER_NAME:?SERVER_NAME must be set}"
umask 022
changed=0
site=$ROOT/srv/mysite
logs=$site/logs

# attrs PATH MODE [GROUP]: fixes mode and group of an existing path, counting a change.
attrs() {
  set -- "$1" "${2#0}" "${3-}" $(stat -c '%a %G' "$1")
  c=0
  [ "$4" = "$2" ] || { chmod "$2" "$1"; c=1; }
  [ -z "$3" ] || [ "$5" = "$3" ] || { chgrp "$3" "$1"; c=1; }
  changed=$((changed + c))
}

# dir PATH MODE [GROUP]
dir() {
  if [ -d "$1" ]; then attrs "$@"; return; fi
  mkdir -p "$1"
  chmod "$2" "$1"
  [ -z "${3-}" ] || chgrp "$3" "$1"
  changed=$((changed + 1))
}

# put PATH MODE < content: writes atomically when the content differs.
put() {
  tmp="$1.floor.$$"
  cat > "$tmp"
  if [ -f "$1" ] && cmp -s "$tmp" "$1"; then
    rm -f "$tmp"
    attrs "$1" "$2"
  else
    chmod "$2" "$tmp"
    mv -f "$tmp" "$1"
    changed=$((changed + 1))
  fi
}

# seed PATH MODE < content: writes only when the file is missing (its content is edited in place later).
seed() {
  if [ -e "$1" ]; then cat > /dev/null; attrs "$1" "$2"; else put "$@"; fi
}

# touchf PATH MODE [GROUP]: creates a missing file; an existing one keeps its content and times.
touchf() {
  if [ -e "$1" ]; then attrs "$@"; return; fi
  : >> "$1"
  chmod "$2" "$1"
  [ -z "${3-}" ] || chgrp "$3" "$1"
  changed=$((changed + 1))
}

# setline PATH REGEX LINE: the line replaces the one matching REGEX, or is appended.
setline() {
  grep -qxF -- "$3" "$1" && return 0
  if grep -qE -- "$2" "$1"; then sed -i -E "s|$2.*|$3|" "$1"; else printf '%s\n' "$3" >> "$1"; fi
  changed=$((changed + 1))
}

dir "$site" 0755
dir "$site/mysite" 0755
dir "$site/static" 0755
dir "$site/media" 0775
dir "$logs" 0750
dir "$ROOT/etc/apache2/sites-available" 0755
dir "$ROOT/etc/apache2/sites-enabled" 0755

put "$site/manage.py" 0755 <<'EOF'
#!/usr/bin/env python3
"""Django's command-line utility for administrative tasks."""
import os
import sys


def main():
    os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'mysite.settings')
    from django.core.management import execute_from_command_line
    execute_from_command_line(sys.argv)


if __name__ == '__main__':
    main()
EOF
put "$site/mysite/__init__.py" 0644 < /dev/null
put "$site/mysite/urls.py" 0644 <<'EOF'
from django.http import HttpResponse
from django.urls import path


def hello(request):
    return HttpResponse('Hello from mysite\n', content_type='text/plain')


urlpatterns = [path('', hello)]
EOF
put "$site/mysite/wsgi.py" 0644 <<'EOF'
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'mysite.settings')

from django.core.wsgi import get_wsgi_application

application = get_wsgi_application()
EOF
seed "$site/mysite/settings.py" 0640 <<'EOF'
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = 'bench-only-not-a-secret'
DEBUG = True
ALLOWED_HOSTS = []

INSTALLED_APPS = [
    'django.contrib.contenttypes',
    'django.contrib.staticfiles',
]
MIDDLEWARE = []
ROOT_URLCONF = 'mysite.urls'
WSGI_APPLICATION = 'mysite.wsgi.application'

DATABASES = {
    'default': {
        'ENGINE': 'django.db.backends.sqlite3',
        'NAME': BASE_DIR / 'db' / 'db.sqlite3',
    }
}

STATIC_URL = '/static/'
STATIC_ROOT = BASE_DIR / 'static'
EOF
setline "$site/mysite/settings.py" '^DEBUG\s*=' 'DEBUG = False'
setline "$site/mysite/settings.py" '^ALLOWED_HOSTS\s*=' "ALLOWED_HOSTS = ['$SERVER_NAME']"

dir "$site/db" 0770 www-data
touchf "$site/db/db.sqlite3" 0660 www-data
touchf "$logs/error.log" 0640
touchf "$logs/access.log" 0640

if [ ! -e "$site/static/admin/.collected" ]; then
  (cd "$site" && mkdir -p static/admin && cp mysite/urls.py static/admin/urls.txt && echo collected > static/admin/.collected)
  changed=$((changed + 1))
fi

before=$changed
put "$ROOT/etc/apache2/sites-available/mysite.conf" 0644 <<EOF
<VirtualHost *:80>
    ServerName $SERVER_NAME
    DocumentRoot $ROOT/srv/mysite

    WSGIDaemonProcess mysite python-path=$ROOT/srv/mysite processes=2 threads=15
    WSGIProcessGroup mysite
    WSGIScriptAlias / $ROOT/srv/mysite/mysite/wsgi.py

    Alias /static/ $ROOT/srv/mysite/static/
    <Directory $ROOT/srv/mysite/static>
        Require all granted
    </Directory>
    <Directory $ROOT/srv/mysite/mysite>
        <Files wsgi.py>
            Require all granted
        </Files>
    </Directory>

    ErrorLog $ROOT/srv/mysite/logs/error.log
    CustomLog $ROOT/srv/mysite/logs/access.log combined
</VirtualHost>
EOF
reload=$((changed - before))

link="$ROOT/etc/apache2/sites-enabled/mysite.conf"
if [ "$(readlink "$link" || true)" != ../sites-available/mysite.conf ]; then
  ln -sfn ../sites-available/mysite.conf "$link"
  changed=$((changed + 1))
fi

# The handler: runs once, after the tasks, when the vhost changed.
if [ "$reload" -gt 0 ]; then
  touch "$ROOT/apache-reloaded"
  changed=$((changed + 1))
fi

echo "changed=$changed"
