"""What a planning flow's configuration may hold, checked when the flow is created.

The ranges are what a plan can mean (a wave of up to 10,000 applications, lasting up to ten years, starting within
this millennium), and keep the dates of any plan of fewer than 365 waves computable. A longer plan whose dates
would pass year 9999 fails its ``schedule`` phase with a message saying so.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from adapters.flow_types import configuration_checks as check

WAVE_SIZE_RANGE = (1, 10_000)
WAVE_WEEKS_RANGE = (1, 520)
START_DATE_RANGE = (date(1970, 1, 1), date(2999, 12, 31))


def validate_configuration(configuration: dict[str, Any]) -> None:
    """``assessment_flow_id`` a UUID, ``wave_size`` 1 to 10,000 applications, ``wave_weeks`` 1 to 520 weeks,
    ``start_date`` a ``YYYY-MM-DD`` date from 1970-01-01 to 2999-12-31, each when present. Raises InvalidFlowInput
    naming the field and its range."""
    check.ensure_object(configuration)
    check.flow_id(configuration, "assessment_flow_id", "assessment")
    check.whole_number(configuration, "wave_size", *WAVE_SIZE_RANGE)
    check.whole_number(configuration, "wave_weeks", *WAVE_WEEKS_RANGE)
    check.iso_date(configuration, "start_date", *START_DATE_RANGE)
