"""Shapes of Marquez's tag answers."""

from __future__ import annotations

from pydantic import BaseModel


class Tag(BaseModel):
    name: str
    description: str | None


class TagList(BaseModel):
    tags: list[Tag]
