"""Settings files read strictly: unknown keys are errors, and every broken field is named."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, ValidationError


class StrictModel(BaseModel):
    """Unknown keys are typos, so they are errors; values never change once read."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def field_problems(error: ValidationError) -> str:
    """One line per offending field, ``  - a.b: what is wrong``, for an error message."""
    return "\n".join(
        f"  - {'.'.join(str(part) for part in issue['loc']) or '(top level)'}: {issue['msg']}"
        for issue in error.errors()
    )
