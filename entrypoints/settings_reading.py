"""How MFO's settings are read: pydantic-settings models of the ``MFO_*`` variables, ``_FILE`` variants for secrets,
and every problem of every variable gathered into one message (ADR 0023).

A model of variables (``entrypoints/environment/``) subclasses :class:`Variables`: one field per variable, named
as the variable without ``MFO_`` (``db_pool_size`` is ``MFO_DB_POOL_SIZE``), with its default and a ``description``
(the README's configuration tables are made from them). ``Annotated[..., SECRET]`` marks a secret: its value may
also come from the file ``MFO_<NAME>_FILE`` names, and it is never repeated in an error message.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from pydantic import ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

PREFIX = "MFO_"
SETTING_ERROR = "mfo_setting"
"""The error type of a problem whose message names its variables itself (a rule between variables, a _FILE)."""


@dataclass(frozen=True)
class FileVariant:
    """Marks a secret: ``MFO_<NAME>_FILE`` may name a file holding its value instead of ``MFO_<NAME>``."""


SECRET = FileVariant()


@dataclass(frozen=True)
class BlankIsAValue:
    """Marks a variable whose empty value means something (elsewhere empty is the same as unset)."""


BLANK_IS_A_VALUE = BlankIsAValue()


def variable_of(field_name: str) -> str:
    return f"{PREFIX}{field_name}".upper()


def problem(text: str) -> PydanticCustomError:
    """A problem reported as written: ``text`` names the variables it is about."""
    return PydanticCustomError(SETTING_ERROR, "{text}", {"text": text})


@dataclass(frozen=True)
class _Unusable:
    """A ``_FILE`` variant that gave no value; its field's validation reports why."""

    reason: str


class FileVariants(PydanticBaseSettingsSource):
    """The values of the secrets whose ``MFO_<NAME>_FILE`` is set: the file's text, without surrounding whitespace."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # __call__ reads every marked field at once

    def __call__(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, field in self.settings_cls.model_fields.items():
            if SECRET not in field.metadata:
                continue
            variable = variable_of(name)
            path = os.environ.get(f"{variable}_FILE", "").strip()
            if path:
                values[name] = _read_secret(variable, path)
        return values


def _read_secret(variable: str, path: str) -> str | _Unusable:
    if os.environ.get(variable, "").strip():
        return _Unusable(f"{variable} and {variable}_FILE are both set: set only one of them")
    try:
        text = Path(path).read_text().strip()
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
        return _Unusable(f"{variable}_FILE: cannot read {path}: {reason}")
    return text or _Unusable(f"{variable}_FILE: {path} is empty")


class Variables(BaseSettings):
    """A group of ``MFO_*`` variables; ``settings()`` builds the dataclass ``builds`` from them, and
    ``readme_table`` names the README table that documents them."""

    builds: ClassVar[type]
    readme_table: ClassVar[str] = "configuration"

    model_config = SettingsConfigDict(
        env_prefix=PREFIX,
        case_sensitive=False,
        str_strip_whitespace=True,
        frozen=True,
        validate_default=False,
        extra="ignore",
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The _FILE variant first: when both are set it reports the clash instead of silently preferring one.
        return init_settings, FileVariants(settings_cls), env_settings

    def settings(self) -> Any:
        raise NotImplementedError

    @model_validator(mode="before")
    @classmethod
    def _blank_is_unset(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        return {
            name: value
            for name, value in data.items()
            if not (isinstance(value, str) and not value.strip() and not cls._blank_is_a_value(name))
        }

    @classmethod
    def _blank_is_a_value(cls, name: str) -> bool:
        field = cls.model_fields.get(name)
        return field is not None and BLANK_IS_A_VALUE in field.metadata

    @field_validator("*", mode="before")
    @classmethod
    def _file_variant_gave_a_value(cls, value: Any) -> Any:
        if isinstance(value, _Unusable):
            raise problem(value.reason)
        return value


def validated_before(info: ValidationInfo, *names: str) -> bool:
    """Whether each of ``names`` (fields declared earlier) passed its own validation: a rule between variables
    is checked only on values that are valid each on their own."""
    return all(name in info.data for name in names)


class InvalidSettings(SystemExit):
    """Every problem with the variables at once; ``mfo`` prints it and exits with status 1 (no traceback)."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = tuple(problems)
        count = len(self.problems)
        heading = f"mfo: {count} setting{'s are' if count > 1 else ' is'} invalid:"
        super().__init__("\n".join([heading, *(f"  {line}" for line in self.problems)]))


def problems_of(model: type[Variables], error: ValidationError) -> list[str]:
    """One line per problem, each naming its variable and saying what is wrong."""
    lines = []
    for detail in error.errors(include_url=False):
        if detail["type"] == SETTING_ERROR:
            lines.append(str(detail["ctx"]["text"]))
            continue
        name = str(detail["loc"][0]) if detail["loc"] else ""
        field = model.model_fields.get(name)
        line = f"{variable_of(name)} {_reason(detail)}"
        if field is not None and SECRET not in field.metadata:
            line += f", not {detail['input']!r}"
        lines.append(line)
    return lines


def _reason(detail: Any) -> str:
    context = detail.get("ctx") or {}
    reasons: dict[str, Callable[[], str]] = {
        "int_parsing": lambda: "must be a whole number",
        "int_from_float": lambda: "must be a whole number",
        "float_parsing": lambda: "must be a number",
        "bool_parsing": lambda: "must be true or false (1/0, yes/no, on/off)",
        "greater_than_equal": lambda: f"must be at least {_bound(context.get('ge'))}",
        "greater_than": lambda: f"must be more than {_bound(context.get('gt'))}",
        "less_than_equal": lambda: f"must be at most {_bound(context.get('le'))}",
        "less_than": lambda: f"must be less than {_bound(context.get('lt'))}",
        "literal_error": lambda: f"must be one of {context.get('expected')}",
        "value_error": lambda: str(context.get("error", detail["msg"])),
    }
    explain = reasons.get(detail["type"])
    return explain() if explain else detail["msg"][:1].lower() + detail["msg"][1:]


def _bound(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


V = TypeVar("V", bound=Variables)


def gather(*models: type[Variables]) -> tuple[dict[type[Variables], Variables], list[str]]:
    """Each model read from the environment, and the problems of those that could not be read (all of them)."""
    values: dict[type[Variables], Variables] = {}
    problems: list[str] = []
    for model in models:
        try:
            values[model] = model()
        except ValidationError as error:
            problems += problems_of(model, error)
    return values, problems


def rule_problems(model: type[Variables]) -> list[str]:
    """Only the problems of ``model``'s rules between variables (its variables' own are reported elsewhere)."""
    try:
        model()
    except ValidationError as error:
        return [str(d["ctx"]["text"]) for d in error.errors(include_url=False) if d["type"] == SETTING_ERROR]
    return []


def read(model: type[V]) -> V:
    """``model`` read from the environment, or :class:`InvalidSettings` listing each of its problems."""
    values, problems = gather(model)
    if problems:
        raise InvalidSettings(problems)
    return values[model]  # type: ignore[return-value]
