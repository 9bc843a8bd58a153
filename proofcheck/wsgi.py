"""WSGI entry point for gunicorn: `gunicorn proofcheck.wsgi:app`."""

from proofcheck import create_app

app = create_app()
