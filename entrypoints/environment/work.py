"""The variables of the work behind the API: phase runners, the CrewAI bridge and its LLM, and monitoring."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import AfterValidator, Field, ValidationInfo, field_validator

from entrypoints.environment.values import (
    Lowered,
    Seconds,
    Secret,
    must_be_http_url,
    must_be_log_level,
)
from entrypoints.settings import (
    CrewAISettings,
    LLMSettings,
    ObservabilitySettings,
    WorkerSettings,
)
from entrypoints.settings_reading import BLANK_IS_A_VALUE, SECRET, Variables, problem, validated_before


class WorkerVariables(Variables):
    builds: ClassVar[type] = WorkerSettings
    readme_table: ClassVar[str] = "workers"

    worker_in_serve: bool = Field(
        WorkerSettings.in_serve,
        description="`mfo serve`'s runner also claims due work; `false` leaves it to `mfo worker` (the server still "
        "runs the phases its API claims)",
    )
    worker_lease_seconds: Seconds = Field(
        WorkerSettings.lease_seconds,
        description="an attempt whose lease was not renewed for this long lost its runner; another runner attempts "
        "the phase again",
    )
    worker_heartbeat_seconds: Seconds = Field(
        WorkerSettings.heartbeat_seconds,
        validate_default=True,
        description="how often a runner renews its leases and notices cancelled flows; shorter than the lease",
    )
    worker_concurrency: int = Field(
        WorkerSettings.concurrency, ge=1, description="attempts of due work one runner runs at once"
    )
    worker_tenant_limit: int = Field(
        WorkerSettings.tenant_limit,
        ge=1,
        description="attempts one tenant may hold at once before runners claim no more of its due work",
    )
    worker_poll_seconds: Seconds = Field(
        WorkerSettings.poll_seconds, description="how long an idle runner waits between looks for due work"
    )

    @field_validator("worker_heartbeat_seconds", mode="after")
    @classmethod
    def _heartbeat_within_the_lease(cls, heartbeat: float, info: ValidationInfo) -> float:
        if validated_before(info, "worker_lease_seconds") and heartbeat >= info.data["worker_lease_seconds"]:
            lease = info.data["worker_lease_seconds"]
            raise problem(
                "MFO_WORKER_HEARTBEAT_SECONDS must be positive and shorter than MFO_WORKER_LEASE_SECONDS "
                f"({heartbeat:g} s, lease {lease:g} s)"
            )
        return heartbeat

    def settings(self) -> WorkerSettings:
        return WorkerSettings(
            in_serve=self.worker_in_serve,
            lease_seconds=self.worker_lease_seconds,
            heartbeat_seconds=self.worker_heartbeat_seconds,
            poll_seconds=self.worker_poll_seconds,
            concurrency=self.worker_concurrency,
            tenant_limit=self.worker_tenant_limit,
        )


class CrewAIVariables(Variables):
    builds: ClassVar[type] = CrewAISettings

    crewai_flow_types: Annotated[str, BLANK_IS_A_VALUE] = Field(
        ",".join(CrewAISettings.flow_types),
        description="flow types whose **new** flows run their phases as CrewAI Flows (comma-separated, `*` for all, "
        "empty for none). Each flow records this at its creation and keeps it on every server, so servers with "
        "different settings may serve one database "
        "([ADR 0018](docs/adr/0018-a-flows-execution-contract-is-fixed-at-creation.md))",
    )

    def settings(self) -> CrewAISettings:
        return CrewAISettings(tuple(name.strip() for name in self.crewai_flow_types.split(",") if name.strip()))


LLM_VARIABLES = ("MFO_LLM_BASE_URL", "MFO_LLM_MODEL", "MFO_LLM_API_KEY")


class LLMVariables(Variables):
    builds: ClassVar[type] = LLMSettings

    llm_base_url: Annotated[str | None, AfterValidator(must_be_http_url)] = Field(
        None,
        description="an OpenAI-compatible endpoint (`https://host/v1`): discovery's field mapping asks a CrewAI crew "
        "there ([docs/flow-types.md](docs/flow-types.md)); with `MFO_LLM_MODEL` and `MFO_LLM_API_KEY`, all three or "
        "none (none: the deterministic proposal)",
    )
    llm_model: str | None = Field(None, description="the model at that endpoint")
    llm_api_key: Secret = Field(None, validate_default=True, description="the key of that endpoint")
    llm_timeout_seconds: Seconds = Field(
        LLMSettings.timeout_seconds, description="seconds one request to that endpoint may take"
    )

    @field_validator("llm_api_key", mode="after")
    @classmethod
    def _all_three_or_none(cls, api_key: str | None, info: ValidationInfo) -> str | None:
        # a field missing from info.data was set (unset is None, always valid) but is invalid on its own
        given = {
            "MFO_LLM_BASE_URL": info.data.get("llm_base_url", "set"),
            "MFO_LLM_MODEL": info.data.get("llm_model", "set"),
            "MFO_LLM_API_KEY": api_key,
        }
        missing = [name for name, value in given.items() if value is None]
        if 0 < len(missing) < len(given):
            together = ", ".join(LLM_VARIABLES)
            raise problem(f"{', '.join(missing)} not set: {together} configure the LLM together (all three or none)")
        return api_key

    def settings(self) -> LLMSettings:
        return LLMSettings(
            base_url=self.llm_base_url,
            model=self.llm_model,
            api_key=self.llm_api_key,
            timeout_seconds=self.llm_timeout_seconds,
        )


class ObservabilityVariables(Variables):
    builds: ClassVar[type] = ObservabilitySettings
    readme_table: ClassVar[str] = "monitoring"

    log_format: Annotated[Literal["json", "text"], Lowered] = Field("json", description="`json` lines or `text`")
    log_level: Annotated[str, AfterValidator(must_be_log_level)] = Field(
        ObservabilitySettings.log_level, description="level of MFO's and uvicorn's loggers"
    )
    otel_exporter: Annotated[Literal["none", "console", "otlp"], Lowered] = Field(
        "none", description="`none`, `console` or `otlp`"
    )
    otel_service_name: str = Field(
        ObservabilitySettings.otel_service_name, description="the `service.name` resource attribute of the spans"
    )
    audit_interval_seconds: float = Field(
        ObservabilitySettings.audit_interval_seconds,
        ge=0,
        description="seconds between periodic audits; `0` turns them off",
    )
    audit_findings_limit: int = Field(
        ObservabilitySettings.audit_findings_limit,
        ge=1,
        description="most inconsistent flows listed in a stored run and in the alert",
    )
    alert_webhook_url: Annotated[str | None, SECRET, AfterValidator(must_be_http_url)] = Field(
        None,
        description="where drift alerts are POSTed; unset: no alert (the log line and the gauge remain)",
    )
    alert_attempts: int = Field(ObservabilitySettings.alert_attempts, ge=1, description="attempts per alert")
    alert_timeout_seconds: Seconds = Field(
        ObservabilitySettings.alert_timeout_seconds, description="timeout of each attempt"
    )
    alert_backoff_seconds: float = Field(
        ObservabilitySettings.alert_backoff_seconds,
        ge=0,
        description="wait before the second attempt, doubled before each next one",
    )
    metrics_cache_seconds: float = Field(
        ObservabilitySettings.metrics_cache_seconds,
        ge=0,
        description="how long `/metrics` reuses the gauges it read from PostgreSQL, per process (`0`: read at every "
        "scrape)",
    )

    def settings(self) -> ObservabilitySettings:
        return ObservabilitySettings(
            log_format=self.log_format,
            log_level=self.log_level,
            otel_exporter=self.otel_exporter,
            otel_service_name=self.otel_service_name,
            audit_interval_seconds=self.audit_interval_seconds,
            audit_findings_limit=self.audit_findings_limit,
            alert_webhook_url=self.alert_webhook_url,
            alert_attempts=self.alert_attempts,
            alert_timeout_seconds=self.alert_timeout_seconds,
            alert_backoff_seconds=self.alert_backoff_seconds,
            metrics_cache_seconds=self.metrics_cache_seconds,
        )
