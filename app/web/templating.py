"""The Jinja2 environment: always autoescaping, unknown names an error, view helpers as filters."""

from __future__ import annotations

from pathlib import Path

import jinja2
from starlette.templating import Jinja2Templates

from app import __version__
from app.engine.types import VERDICTS
from app.web import view

TEMPLATES_DIR = Path(__file__).parent / "templates"


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        # On for every template, whatever its file name: clinic text must never become markup.
        autoescape=True,
        # A misspelt name fails the test suite instead of rendering as an empty string.
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        highlight=view.highlight,
        safe_href=view.safe_href,
        display_url=view.display_url,
        when=view.when,
        page_state=view.page_state,
        points=view.points,
        reference_label=view.reference_label,
        trial_status=view.trial_status,
        trial_verdict=view.trial_verdict,
    )
    env.globals.update(
        version=__version__,
        verdicts=VERDICTS,
        questions=view.QUESTIONS,
        registry_home=view.REGISTRY_HOME,
    )
    return env


templates = Jinja2Templates(env=_environment())
