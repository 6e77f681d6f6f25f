"""The UI's typed client is generated from frontend/src/api/openapi.json: it must match the API."""

from __future__ import annotations

import json
from pathlib import Path

from agente_films.api.app import create_app

SNAPSHOT = Path(__file__).resolve().parents[2] / "frontend" / "src" / "api" / "openapi.json"
REFRESH = (
    "python -c \"import json; from agente_films.api.app import create_app; "
    "print(json.dumps(create_app().openapi(), indent=2, sort_keys=True))\" > frontend/src/api/openapi.json"
    " && (cd frontend && npm run gen:api)"
)


def test_the_frontend_openapi_snapshot_is_current() -> None:
    live = json.dumps(create_app().openapi(), indent=2, sort_keys=True) + "\n"
    assert SNAPSHOT.read_text() == live, f"the API changed; refresh the UI's snapshot: {REFRESH}"
