"""The base of every job's argument model, apart from the catalog so that the models of
other modules (e.g. `core.maintenance`) can be defined where their logic is."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class JobArgs(BaseModel):
    """Base of every argument model: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid", frozen=True)
