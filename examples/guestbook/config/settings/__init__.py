"""Settings as a package, a common layout: everything shared lives in base.py."""
from .base import *  # noqa: F401,F403
