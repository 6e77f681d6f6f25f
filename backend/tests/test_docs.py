"""The configuration is documented: every setting appears in .env.example and in the README."""

from __future__ import annotations

from pathlib import Path

from agente_films.settings import Settings
from tests.test_deploy import compose_variables

ROOT = Path(__file__).resolve().parents[2]


def env_names() -> set[str]:
    return {name.upper() for name in Settings.model_fields}


def test_every_setting_is_in_env_example_with_a_comment() -> None:
    lines = (ROOT / ".env.example").read_text().splitlines()
    documented = {}
    for index, line in enumerate(lines):
        if "=" in line and not line.startswith("#"):
            name = line.split("=", 1)[0]
            documented[name] = lines[index - 1].startswith("#")
    compose_only = compose_variables()
    assert env_names() <= set(documented), env_names() - set(documented)
    assert set(documented) <= env_names() | compose_only, set(documented) - env_names() - compose_only
    for name in env_names():
        # A setting either has its own comment line or shares the one above its group.
        index = next(i for i, line in enumerate(lines) if line.startswith(f"{name}="))
        assert any(lines[j].startswith("#") for j in range(max(0, index - 3), index)), name


def test_every_setting_is_in_the_readme_table() -> None:
    readme = (ROOT / "README.md").read_text()
    missing = [name for name in env_names() if f"`{name}`" not in readme]
    assert not missing, missing


def test_readme_has_exactly_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "make run" in readme and "make test" in readme
    makefile = (ROOT / "Makefile").read_text()
    assert "\nrun:" in makefile and "\ntest:" in makefile
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci
