"""The README stays true about set-up and configuration."""

import re

from app.core.settings import Settings
from tests.support.processes import PROJECT_ROOT

README = (PROJECT_ROOT / "README.md").read_text()


def section(title: str) -> str:
    start = README.index(f"## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start : end if end != -1 else None]


def env_names(name: str) -> list[str]:
    alias = Settings.model_fields[name].validation_alias
    choices = getattr(alias, "choices", None)
    return [str(choices[0])] if choices else [f"AFTERVIEW_{name.upper()}"]


def test_set_up_gives_exactly_two_commands() -> None:
    commands = re.findall(r"```bash\n(.*?)\n```", section("Set up"), re.DOTALL)
    assert len(commands) == 2
    assert commands[0].endswith("afterview serve")
    assert commands[1].endswith("python -m pytest")


def test_the_configuration_table_lists_every_setting() -> None:
    table = section("Configuration")
    missing = [
        env for name in Settings.model_fields for env in env_names(name) if f"`{env}`" not in table
    ]
    assert missing == []
