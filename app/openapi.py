"""The committed OpenAPI document (`openapi/openapi.json`) is generated from the app, here."""

import json
from pathlib import Path

from app.core.settings import Settings
from app.main import create_app

OPENAPI_PATH = Path(__file__).resolve().parents[1] / "openapi" / "openapi.json"


def render_openapi() -> str:
    app = create_app(Settings(database_url="postgresql://unused@localhost/unused"))
    return json.dumps(app.openapi(), indent=2, sort_keys=False) + "\n"
